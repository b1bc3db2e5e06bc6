// Activities of the A3 exchange. Both are idempotent: a batch is keyed by the SHA-256 of its content, its import
// runs in one transaction that first locks the batch row and returns the stored report if it is already
// imported; files of the inbox are moved away only after their batch row exists.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Db } from '../infra/db';
import { appendAudit } from '../infra/audit/log';
import { activeFeedCertificates, sha256Hex, verifyDetachedSignature } from '../infra/signing/detached-signature';
import { parseRegistrationRow, type RowRefusal } from '../domain/registration-feed';
import { shanghaiDate } from '../domain/calendar';

export interface BatchReport {
  batchId: string;
  accepted: number;
  refused: number;
  rows: Array<{ line: number; uscc: string | null; outcome: 'accepted' | 'refused'; refusals?: RowRefusal[] }>;
}

/** The inbox of the file exchange: DATA_DIR/registration-inbox (name.jsonl + name.jsonl.p7s). */
export const registrationInboxDir = (dataDir: string) => path.join(dataDir, 'registration-inbox');

export function createRegistrationExchangeActivities(db: Db, dataDir: string) {
  return {
    /**
     * Takes the signed batches dropped in the inbox: each verified one becomes a batch row (once, whatever
     * the number of deliveries) and its files move to processed/; a batch whose signature fails moves to
     * refused/ with the reason beside it. Returns the batches still to import.
     */
    async collectRegistrationInbox(): Promise<string[]> {
      const dir = registrationInboxDir(dataDir);
      await mkdir(path.join(dir, 'processed'), { recursive: true });
      await mkdir(path.join(dir, 'refused'), { recursive: true });
      const names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl')).sort();
      const trusted = await activeFeedCertificates(db);
      const ids: string[] = [];
      for (const name of names) {
        const file = path.join(dir, name);
        let signature: Buffer;
        try {
          signature = await readFile(`${file}.p7s`);
        } catch {
          continue; // its signature may still be on its way
        }
        const content = await readFile(file);
        const check = verifyDetachedSignature(content, signature, trusted);
        const to = check.ok ? 'processed' : 'refused';
        if (check.ok) {
          const id = sha256Hex(content);
          await db('registration_batches')
            .insert({ id, source: 'inbox', file_name: name, content, signature, signer_fingerprint: check.signerFingerprint })
            .onConflict('id')
            .ignore();
          ids.push(id);
        } else {
          await writeFile(path.join(dir, 'refused', `${name}.reason.txt`), `signature refused: ${check.reason}\n`);
        }
        await rename(file, path.join(dir, to, name));
        await rename(`${file}.p7s`, path.join(dir, to, `${name}.p7s`));
      }
      // Batches received but not imported yet (also those of an earlier run that stopped half way).
      const pending = await db('registration_batches').where({ status: 'received' }).pluck('id');
      return [...new Set([...ids, ...pending])];
    },

    /**
     * Imports one batch: each row accepted (the holder registered or updated as shared registration data) or
     * refused with its fields; the report stored with the batch and audited. The signature is checked again
     * against the certificates listed now (one withdrawn since receipt stops the import).
     */
    async importRegistrationBatch({ batchId }: { batchId: string }): Promise<BatchReport> {
      return db.transaction(async (trx) => {
        const batch = await trx('registration_batches').where({ id: batchId }).forUpdate().first();
        if (!batch) throw new Error(`registration batch ${batchId} does not exist`);
        if (batch.status === 'imported') return batch.report as BatchReport;
        const trusted = await activeFeedCertificates(trx);
        const check = verifyDetachedSignature(batch.content, batch.signature, trusted);
        const today = shanghaiDate(new Date());
        const report: BatchReport = { batchId, accepted: 0, refused: 0, rows: [] };
        if (!check.ok) {
          report.rows.push({ line: 0, uscc: null, outcome: 'refused', refusals: [{ field: 'signature', code: 'SIGNATURE_REFUSED', messageZh: `签名不再有效（${check.reason}）`, messageEn: `The signature is no longer accepted (${check.reason})` }] });
          report.refused = 1;
        } else {
          const lines = (batch.content as Buffer).toString('utf8').split('\n');
          for (let i = 0; i < lines.length; i++) {
            const line = lines[i].trim();
            if (line === '') continue;
            const parsed = parseRegistrationRow(line, today);
            if (!parsed.ok) {
              const uscc = (() => { try { const u = JSON.parse(line)?.uscc; return typeof u === 'string' ? u.slice(0, 18) : null; } catch { return null; } })();
              report.rows.push({ line: i + 1, uscc, outcome: 'refused', refusals: parsed.refusals });
              report.refused++;
              continue;
            }
            const { holder, registrationDate } = parsed.row;
            const row = {
              uscc: holder.uscc, name: holder.name, kind: holder.kind, district_code: holder.districtCode, address: holder.address,
              legal_representative: holder.legalRepresentative, registration_date: registrationDate,
              source: 'market_regulation', pre_verified: true, registration_batch_id: batchId,
            };
            await trx('holders').insert({ id: randomUUID(), ...row }).onConflict('uscc').merge(row);
            report.rows.push({ line: i + 1, uscc: holder.uscc, outcome: 'accepted' });
            report.accepted++;
          }
        }
        await trx('registration_batches').where({ id: batchId }).update({ status: 'imported', accepted: report.accepted, refused: report.refused, report: JSON.stringify(report), imported_at: trx.fn.now() });
        await appendAudit(trx, {
          action: 'registration.batch_import',
          outcome: check.ok ? 'ok' : 'refused',
          targetType: 'registration_batch',
          targetId: batchId,
          details: { source: batch.source, accepted: report.accepted, refused: report.refused },
        });
        return report;
      });
    },
  };
}
