// The audit chain's head, signed in the HSM at intervals (M6, P1): an HSM-worker activity that waits until
// N entries are unsigned or the oldest unsigned entry is T seconds old, then signs the current head
// (infra/audit/heads.ts). It long-polls PostgreSQL (one small query a second), heartbeating, so a worker
// shutting down cancels it at once; auditHeadSigningWorkflow calls it in a loop.
import { Context } from '@temporalio/activity';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { auditHeadStatus, signAuditHead } from '../infra/audit/heads';

export interface AuditHeadSigningPolicy {
  /** Sign when this many entries are not yet covered by a signed head … */
  everyEntries: number;
  /** … or when the oldest of them is this old; and return after this long without anything to sign. */
  everySeconds: number;
  pollMs?: number;
}

export function createAuditHeadSigning(hsm: Hsm, db: Db) {
  return {
    async signAuditChainHead(policy: AuditHeadSigningPolicy): Promise<{ signed: boolean; seq: string }> {
      const ctx = Context.current();
      const started = Date.now();
      const maxAgeMs = policy.everySeconds * 1000;
      for (;;) {
        const s = await auditHeadStatus(db);
        const pending = s.chainSeq - s.lastSignedSeq;
        const age = s.oldestUnsignedAt ? Date.now() - s.oldestUnsignedAt.getTime() : 0;
        if (pending > 0n && (pending >= BigInt(policy.everyEntries) || age >= maxAgeMs)) return signAuditHead(hsm, db);
        if (Date.now() - started >= maxAgeMs) return { signed: false, seq: s.lastSignedSeq.toString() };
        ctx.heartbeat();
        await ctx.sleep(policy.pollMs ?? 1000); // rejects when the activity is cancelled
      }
    },
  };
}
