// Activities of a lifecycle request's workflow (workflows/change-request.ts, issue 10.5): the request's
// workflow, started first, drives the seal's own workflow (its Update) and the replacement (M11). Each is
// idempotent: the Update carries the request's id as its update id, and the replacement's rows are keyed by ids
// derived from the request, so a retry after a crash finds what the first attempt did.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { personalData } from '../infra/crypto/personal-data';
import { materialsCarriedOver, replacementReasonOf } from '../domain/replacement';
import { applyChangeUpdate, type CancellationReason, type ChangeKind, type RevocationReason, type SealLifeStatus } from '../workflows/seal-messages';

export type SealChangeOutcome = { applied: true; status: SealLifeStatus } | { applied: false; zh: string; en: string; status: string };

export function createSealChangeDbActivities(db: Db) {
  return {
    /** The seal's workflow applies the change (or refuses it, naming its status); the same request applies once. */
    async applySealChange(c: { sealId: string; changeCaseId: string; kind: ChangeKind; reason: CancellationReason | null; revocationReason?: RevocationReason; invalidityDate?: string | null }): Promise<SealChangeOutcome> {
      const handle = Context.current().client.workflow.getHandle(`seal:${c.sealId}`);
      try {
        const r = await handle.executeUpdate(applyChangeUpdate, { updateId: `change:${c.changeCaseId}`, args: [{ changeCaseId: c.changeCaseId, kind: c.kind, reason: c.reason, ...(c.revocationReason ? { revocationReason: c.revocationReason } : {}), ...(c.invalidityDate !== undefined ? { invalidityDate: c.invalidityDate } : {}) }] });
        return { applied: true, status: r.status };
      } catch (e) {
        if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
          const d = (e.cause.details?.[0] ?? {}) as { zh?: string; en?: string; status?: string };
          return { applied: false, zh: d.zh ?? e.cause.message, en: d.en ?? e.cause.message, status: d.status ?? 'unknown' };
        }
        // The seal's workflow has ended: a cancellation ends it, so a retry of this very cancellation finds it done.
        const seal = await db('seals').where({ id: c.sealId }).first('status');
        if ((e as Error).name === 'WorkflowNotFoundError' || /already completed/i.test((e as Error).message)) {
          if (c.kind === 'cancel' && seal?.status === 'cancelled') return { applied: true, status: 'cancelled' };
          return { applied: false, zh: '印章当前状态为“已登出”，不能办理该事项', en: `Cannot ${c.kind} a seal that is cancelled`, status: seal?.status ?? 'cancelled' };
        }
        throw e;
      }
    },
  };
}

export function createSealChangeHsmActivities(deps: { db: Db; hsm: Hsm }) {
  const { db } = deps;
  return {
    /**
     * M11: the new application of a replacement, pre-filled from the old seal (a business seal keeps its number,
     * the old materials that still hold carry over, domain/replacement.ts). Runs where personal data may be read (an HSM worker): the handler's ID and
     * phone are taken from the request's case and the personal seal's ID from the old seal, each encrypted anew
     * for its new row. Once per request: the new ids are the request's.
     */
    async createReplacementApplication(r: { changeCaseId: string; oldSealId: string; newCaseId: string; newSealId: string; newHolderName: string | null; actorId: string }): Promise<void> {
      if (await db('cases').where({ id: r.newCaseId }).first('id')) return;
      const pd = personalData(deps);
      const change = await db('cases').where({ id: r.changeCaseId }).first();
      const old = await db('seals').where({ id: r.oldSealId }).first();
      const oldCase = await db('cases').where({ id: old.case_id }).first('language');
      const from = (column: string) => ({ table: 'cases', column, row: r.changeCaseId });
      const to = (column: string) => ({ table: 'cases', column, row: r.newCaseId });
      const [handlerId, handlerPhone, personIdNumber] = await Promise.all([
        pd.reencrypt(change.handler_id_number, from('handler_id_number'), to('handler_id_number')),
        pd.reencrypt(change.handler_phone, from('handler_phone'), to('handler_phone')),
        pd.reencrypt(old.person_id_number, { table: 'seals', column: 'person_id_number', row: old.id }, { table: 'seals', column: 'person_id_number', row: r.newSealId }),
      ]);
      await db.transaction(async (trx) => {
        if (await trx('cases').where({ id: r.newCaseId }).forUpdate().first('id')) return;
        if (r.newHolderName) {
          // M11: the seals made under the old name keep it; the holder's row takes the new one (once: the
          // replacements of one name change share it).
          const holder = await trx('holders').where({ id: old.holder_id }).forUpdate().first('name');
          if (holder.name !== r.newHolderName) {
            await trx('seals').where({ holder_id: old.holder_id }).whereNull('holder_name').update({ holder_name: holder.name });
            await trx('holders').where({ id: old.holder_id }).update({ name: r.newHolderName });
          }
        }
        await trx('cases').insert({
          id: r.newCaseId,
          maker_id: change.maker_id,
          holder_id: old.holder_id,
          district_code: change.district_code,
          status: 'submitted',
          language: oldCase.language,
          newly_established_organ: false,
          handler_name: change.handler_name,
          handler_id_number: handlerId,
          handler_id_number_hmac: change.handler_id_number_hmac,
          handler_phone: handlerPhone,
          request_reason: `replaces seal ${old.id}`,
          created_by: r.actorId,
        });
        await trx('seals').insert({
          id: r.newSealId,
          case_id: r.newCaseId,
          holder_id: old.holder_id,
          kind: old.kind,
          number: old.number,
          text: old.kind === 'legal_name' || old.kind.startsWith('business_') ? (r.newHolderName ?? old.text) : old.text,
          person_name: old.person_name,
          person_role: old.person_role,
          person_id_number: personIdNumber, // the keyed hash carries over as it is
          person_id_number_hmac: old.person_id_number_hmac,
          status: 'in_production',
          replaces_seal_id: old.id,
        });
        // M11: the old application's materials that still hold carry over (nothing submitted before is lost);
        // those the change made stale are asked anew, so the new application waits for them (materials_required).
        const materials = materialsCarriedOver(replacementReasonOf(change.request_reason), await trx('materials').where({ case_id: old.case_id }).whereNot({ kind: 'on_site_image' }));
        for (const m of materials) {
          await trx('materials').insert({ id: randomUUID(), case_id: r.newCaseId, kind: m.kind, original_name: m.original_name, blob_sha256: m.blob_sha256, blob_format: m.blob_format, uploaded_by: r.actorId });
        }
        await trx('case_events').insert({ case_id: r.newCaseId, event_key: '0:submitted', type: 'submitted', data: JSON.stringify({ replaces: old.id, requestCase: r.changeCaseId }), actor_id: r.actorId, at: new Date() });
      });
    },
  };
}
