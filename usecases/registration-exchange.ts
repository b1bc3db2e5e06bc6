// A3 as an exchange with the market-regulation authority: its signed batches of newly registered holders
// arrive over HTTPS (this use-case) or as files in the inbox folder (the `registration-inbox` Schedule); each is
// imported once by a workflow, with a report of accepted and refused rows. The administrator lists the
// certificates whose signatures are accepted. A batch authenticates itself by its signature — as EDI partners'
// messages do — so the HTTPS endpoint needs no account: a batch that does not verify is refused and not kept.
import { X509Certificate } from 'node:crypto';
import { Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ConnectionLike } from '@temporalio/client';
import type { Actor } from '../domain/actor';
import { DomainError, fieldRef, invalidField, requiredField } from '../domain/errors';
import { forbidden, notFound } from '../domain/refusals';
import type { IncomingFile } from '../infra/blobs';
import type { Config } from '../infra/config';
import { activeFeedCertificates, sha256Hex, verifyDetachedSignature } from '../infra/signing/detached-signature';
import { appendAudit, auditRead } from '../infra/audit/log';
import { registrationBatchWorkflow, registrationInboxWorkflow } from '../workflows/registration-import';
import type { Deps } from './deps';

export const REGISTRATION_INBOX_SCHEDULE_ID = 'registration-inbox';
export const registrationBatchWorkflowId = (batchId: string) => `registration-batch:${batchId}`;
/** A batch of a few thousand rows is ~1 MB; larger ones are split by the sender. */
export const MAX_BATCH_BYTES = 5 * 1024 * 1024;
export const MAX_BATCH_SIGNATURE_BYTES = 64 * 1024;

const F = {
  batch: fieldRef('batch', '登记信息批次', 'Registration batch'),
  signature: fieldRef('signature', '批次签名', 'Batch signature'),
  certificate: fieldRef('certificate', '签名证书', 'Signing certificate'),
};

const REASONS: Record<string, { zh: string; en: string }> = {
  unreadable: { zh: '不是 CMS 签名数据（DER）', en: 'is not CMS signed data (DER)' },
  not_one_signer: { zh: '应恰有一个签名者', en: 'must have exactly one signer' },
  unknown_signer: { zh: '签名证书不在管理员登记的共享接口证书中', en: 'is not by a certificate the administrator listed for the exchange' },
  certificate_not_valid_now: { zh: '签名证书不在有效期内', en: 'is by a certificate outside its validity' },
  digest_mismatch: { zh: '与批次内容不符（内容被改动或签名属于其他文件）', en: 'does not match the batch (altered, or the signature of another file)' },
  bad_signature: { zh: '签名值校验失败', en: 'has a signature value that does not verify' },
  unsupported_algorithm: { zh: '算法不受支持（应为 SHA-256 及 ECDSA 或 RSA）', en: 'uses an unsupported algorithm (SHA-256 with ECDSA or RSA expected)' },
};

const canSeeExchange = (actor: Actor) => actor.role === 'admin' || actor.role === 'supervisor';

/** The administrator lists a certificate of the registration authority (PEM); its batches are accepted from then on. */
export async function addFeedCertificate(deps: Pick<Deps, 'db'>, actor: Actor, body: Record<string, unknown>) {
  if (actor.role !== 'admin') throw forbidden('Only an administrator lists the exchange certificates', '只有管理员可以登记共享接口证书');
  const pem = body?.certificate;
  if (typeof pem !== 'string' || pem.trim() === '') throw requiredField(F.certificate);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw invalidField(F.certificate, '不是有效的 PEM 格式 X.509 证书', 'is not a PEM X.509 certificate');
  }
  if (new Date(cert.validTo) < new Date()) throw invalidField(F.certificate, '已过有效期', 'has expired');
  const fingerprint = sha256Hex(cert.raw);
  const row = { fingerprint, certificate_pem: cert.toString(), subject: cert.subject.replace(/\n/g, ', '), not_after: new Date(cert.validTo), status: 'active', added_by: actor.userId };
  await deps.db('registration_feed_certificates').insert(row).onConflict('fingerprint').merge({ status: 'active' });
  return { fingerprint, subject: row.subject, not_after: row.not_after.toISOString(), status: 'active' };
}

export async function withdrawFeedCertificate(deps: Pick<Deps, 'db'>, actor: Actor, fingerprint: string) {
  if (actor.role !== 'admin') throw forbidden('Only an administrator lists the exchange certificates', '只有管理员可以登记共享接口证书');
  const n = await deps.db('registration_feed_certificates').where({ fingerprint }).update({ status: 'withdrawn' });
  if (n === 0) throw notFound('Exchange certificate', '共享接口证书');
  return { fingerprint, status: 'withdrawn' };
}

export async function listFeedCertificates(deps: Pick<Deps, 'db'>, actor: Actor) {
  if (!canSeeExchange(actor)) throw forbidden();
  return deps.db('registration_feed_certificates').orderBy('added_at').select('fingerprint', 'subject', 'not_after', 'status', 'added_at');
}

/**
 * A batch posted over HTTPS: verified before anything is kept, stored once (its id is its SHA-256), and its
 * import started (one workflow per batch). Answers at once; the report follows at the status link.
 */
export async function receiveRegistrationBatch(deps: Deps, files: { batch: IncomingFile | null; signature: IncomingFile | null }) {
  const { batch, signature } = files;
  if (!batch) throw requiredField(F.batch);
  if (!signature) throw requiredField(F.signature);
  if (batch.truncated || batch.size > MAX_BATCH_BYTES) throw new DomainError({ code: 'BATCH_TOO_LARGE', field: F.batch, httpStatus: 413, messageZh: `批次超过 ${MAX_BATCH_BYTES / 1024 / 1024} MB，请拆分后提交`, messageEn: `The batch is larger than ${MAX_BATCH_BYTES / 1024 / 1024} MB; send it in parts` });
  if (signature.truncated || signature.size > MAX_BATCH_SIGNATURE_BYTES) throw invalidField(F.signature, '过大', 'is too large');
  const content = await batch.readBytes();
  const sig = await signature.readBytes();
  const check = verifyDetachedSignature(content, sig, await activeFeedCertificates(deps.db));
  if (!check.ok) {
    const r = REASONS[check.reason];
    throw new DomainError({ code: 'SIGNATURE_REFUSED', field: F.signature, httpStatus: 422, messageZh: `批次签名${r.zh}，批次未接收`, messageEn: `The batch signature ${r.en}; the batch was not received`, details: { reason: check.reason } });
  }
  const id = sha256Hex(content);
  await deps.db('registration_batches')
    .insert({ id, source: 'https', file_name: batch.filename.slice(0, 200) || null, content, signature: sig, signer_fingerprint: check.signerFingerprint })
    .onConflict('id')
    .ignore();
  await appendAudit(deps.db, { action: 'registration.batch_receive', targetType: 'registration_batch', targetId: id, details: { source: 'https', bytes: content.length, signer: check.signerFingerprint } });
  await deps.temporal.workflow
    .start(registrationBatchWorkflow, {
      taskQueue: deps.config.temporal.taskQueues.main,
      workflowId: registrationBatchWorkflowId(id),
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [{ batchId: id }],
    })
    .catch((e: Error) => {
      if (e.name !== 'WorkflowExecutionAlreadyStartedError') throw e;
    });
  const row = await deps.db('registration_batches').where({ id }).first('status');
  return { batch_id: id, status: row.status as string, report: `/api/registration/batches/${id}` };
}

/** A batch's report: every row accepted or refused, each refusal naming its field. */
export async function registrationBatchReport(deps: Pick<Deps, 'db'>, actor: Actor, id: string) {
  if (!canSeeExchange(actor)) throw forbidden();
  if (!/^[0-9a-f]{64}$/.test(id)) throw notFound('Registration batch', '登记信息批次');
  const b = await deps.db('registration_batches').where({ id }).first('id', 'source', 'file_name', 'status', 'accepted', 'refused', 'report', 'received_at', 'imported_at');
  if (!b) throw notFound('Registration batch', '登记信息批次');
  await auditRead(deps.db, actor, { action: 'registration.batch_read', targetType: 'registration_batch', targetId: id });
  return {
    id: b.id, source: b.source, file_name: b.file_name, status: b.status, received_at: b.received_at, imported_at: b.imported_at,
    accepted: b.accepted, refused: b.refused, rows: b.report?.rows ?? [],
  };
}

/** The Schedule that scans the inbox folder; created or updated by the main worker at start-up (idempotent). */
export async function ensureRegistrationInboxSchedule(connection: ConnectionLike, config: Config): Promise<void> {
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const spec = { intervals: [{ every: `${config.registration.inboxScanMinutes} minutes` }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: registrationInboxWorkflow,
    workflowId: `${REGISTRATION_INBOX_SCHEDULE_ID}-run`,
    taskQueue: config.temporal.taskQueues.main,
    args: [] as [],
  };
  try {
    await client.schedule.create({ scheduleId: REGISTRATION_INBOX_SCHEDULE_ID, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' } });
  } catch (e) {
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
    await client.schedule.getHandle(REGISTRATION_INBOX_SCHEDULE_ID).update((prev) => ({ ...prev, spec, action }));
  }
}
