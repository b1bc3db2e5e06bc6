// I2: the database side of the trust list (workflows/trust-list-change.ts) and the Schedule's CRL refresh.
// Idempotent: a retried decision finds the change decided and applies nothing twice.
import type { Db } from '../infra/db';
import { appendAudit } from '../infra/audit/log';
import { refreshAllPlatformCrls } from '../infra/pki/foreign-crls';
import { readCertificate } from '../infra/pki/foreign';
import type { PlatformProposal } from '../domain/trust-list';
import type { DecisionAudit } from './applications';

export function createTrustListActivities(db: Db) {
  return {
    /** Closes the change with the second supervisor's decision and, when approved, applies it to the list; audited once. */
    async applyTrustListDecision(d: { changeId: string; decision: 'approve' | 'reject'; reason: string | null; supervisorId: string; at: string; audit: DecisionAudit }): Promise<void> {
      await db.transaction(async (trx) => {
        const closed = await trx('trust_list_changes')
          .where({ id: d.changeId, status: 'pending' })
          .update({ status: d.decision === 'approve' ? 'approved' : 'rejected', decided_by: d.supervisorId, decided_at: d.at, reason: d.reason })
          .returning(['platform_id', 'kind', 'proposal']);
        if (closed.length === 0) return; // decided before (a retry)
        const { platform_id: platformId, kind, proposal } = closed[0] as { platform_id: string; kind: string; proposal: PlatformProposal };
        if (d.decision === 'approve') {
          const row = { code: proposal.code, name: proposal.name, status: proposal.status, crl_url: proposal.crlUrl, ocsp_url: proposal.ocspUrl, updated_at: d.at };
          if (kind === 'create') await trx('trusted_platforms').insert({ id: platformId, ...row });
          else await trx('trusted_platforms').where({ id: platformId }).update({ ...row, version: trx.raw('version + 1') });
          await trx('trusted_platform_certificates').where({ platform_id: platformId }).delete();
          const certs = [...proposal.rootCertificates.map((b) => ({ role: 'root', b })), ...proposal.makerCertificates.map((b) => ({ role: 'maker', b }))];
          for (const c of certs) {
            const cert = readCertificate(Buffer.from(c.b, 'base64'));
            await trx('trusted_platform_certificates').insert({ platform_id: platformId, role: c.role, sha256: cert.sha256, der: cert.der, subject: cert.subject.slice(0, 500) }).onConflict(['platform_id', 'role', 'sha256']).ignore();
          }
          // A new CRL address or new roots: the cached CRL no longer speaks for the platform.
          await trx('foreign_crls').where({ platform_id: platformId }).delete();
        }
        await appendAudit(trx, {
          action: 'trust_list.decide',
          outcome: 'ok',
          actor: { userId: d.supervisorId, username: d.audit.username, role: d.audit.role, districtCode: null, makerId: null, holderId: null },
          targetType: 'platform',
          targetId: platformId,
          clientAddress: d.audit.clientAddress,
          requestId: d.audit.requestId,
          details: { change_id: d.changeId, decision: d.decision, kind, code: proposal.code, status: proposal.status },
          at: new Date(d.at),
        });
      });
    },

    async refreshForeignCrls(): Promise<{ refreshed: number; failed: number }> {
      const results = await refreshAllPlatformCrls(db);
      return { refreshed: results.filter((r) => !r.error).length, failed: results.filter((r) => r.error).length };
    },
  };
}

export type TrustListActivities = ReturnType<typeof createTrustListActivities>;
