// U2 P2: the verification report as a PDF signed by the platform, for `POST /api/verifications` with
// `Accept: application/pdf` and for the public page's download after a verification.
// Decision: the platform signs only a report it made itself. The page cannot send the report back (a client
// could forge it) and there is no server secret to MAC it with, so the report is kept for
// REPORT_KEPT_MINUTES in verification_report_copies, found by the SHA-256 of a random token that only the
// page's download form holds (as the reset links are: the token itself is never stored). The PDF is rendered
// and signed by the workflow `verification-report:<id>` (main worker, then HSM worker), once per report.
import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import type { Deps } from './deps';
import type { Db } from '../infra/db';
import type { IncomingFile } from '../infra/blobs';
import { DomainError } from '../domain/errors';
import { verificationReportWorkflow } from '../workflows/verification-report';
import { within } from './applications';
import { newSecret } from './web-accounts';
import { verifyDocument, type VerificationReport, type VerifyRequest } from './verification';

/** How long the page's download stays possible after the verification. */
export const REPORT_KEPT_MINUTES = 30;
/** How long a request waits for the rendering and the signature (a few seconds; Chromium's first start more); VERIFY_REPORT_PDF_WAIT_MS overrides. */
const reportPdfWithinMs = () => {
  const ms = Number(process.env.VERIFY_REPORT_PDF_WAIT_MS ?? 60_000);
  return Number.isFinite(ms) && ms > 0 ? ms : 60_000; // a mistyped setting must not become a 500 for every download
};

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const expired = () =>
  new DomainError({ code: 'REPORT_EXPIRED', httpStatus: 410, messageZh: `验证报告已过期（保留 ${REPORT_KEPT_MINUTES} 分钟），请重新上传文件验证`, messageEn: `The verification report has expired (kept ${REPORT_KEPT_MINUTES} minutes); upload the file again to verify it` });

const unavailable = () =>
  new DomainError({
    code: 'REPORT_PDF_UNAVAILABLE',
    httpStatus: 503,
    messageZh: '暂时无法生成经平台签名的验证报告（PDF），请稍后重试',
    messageEn: 'The verification report signed by the platform (PDF) cannot be made right now; please try again shortly',
  });

type DetachedSignature = { name: string; size: number; sha256: string } | null;

const detachedOf = (file: IncomingFile | null): DetachedSignature => (file && !file.truncated ? { name: file.filename, size: file.size, sha256: file.sha256 } : null);

/** Keeps a report the platform made; `withToken`: the page's download token (the API's copy has none). */
async function keep(db: Db, report: VerificationReport, detached: DetachedSignature, withToken: boolean, now: Date): Promise<{ id: string; token: string | null }> {
  await db('verification_report_copies').where('expires_at', '<', now).delete(); // what the page no longer offers
  const id = randomUUID();
  const token = withToken ? newSecret() : null;
  await db('verification_report_copies').insert({
    id,
    token_sha256: token ? sha256(token) : null,
    report: JSON.stringify(report),
    detached_signature: detached ? JSON.stringify(detached) : null,
    created_at: now,
    expires_at: new Date(now.getTime() + REPORT_KEPT_MINUTES * 60_000),
  });
  return { id, token };
}

/** The page: keeps the report it shows and answers the token its download form carries. */
export async function keepReportForDownload(db: Db, report: VerificationReport, signature: IncomingFile | null, now = new Date()): Promise<string> {
  return (await keep(db, report, detachedOf(signature), true, now)).token!;
}

/** The signed PDF of a kept report, made now if not yet (workflow `verification-report:<id>`). */
async function signedPdf(deps: Pick<Deps, 'db' | 'temporal' | 'config'>, id: string): Promise<Buffer> {
  const done = await deps.db('verification_report_copies').where({ id }).first('signed_pdf');
  if (done?.signed_pdf) return Buffer.from(done.signed_pdf);
  const workflowId = `verification-report:${id}`;
  let finished: unknown;
  const waitMs = reportPdfWithinMs();
  try {
    finished = await within(
      deps.temporal,
      async () => {
        try {
          return await deps.temporal.workflow.execute(verificationReportWorkflow, {
            taskQueue: deps.config.temporal.taskQueues.main,
            workflowId,
            // Nobody waits longer than waitMs: the run's retries end soon after.
            workflowExecutionTimeout: waitMs * 2,
            args: [{ reportId: id, hsmTaskQueue: deps.config.temporal.taskQueues.hsm }],
          });
        } catch (e) {
          if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
          return await deps.temporal.workflow.getHandle(workflowId).result(); // a second click while the first runs
        }
      },
      waitMs,
    );
  } catch (e) {
    if (e instanceof WorkflowFailedError) {
      if (/REPORT_EXPIRED/.test(JSON.stringify(failureTypes(e)))) throw expired();
      throw unavailable();
    }
    throw e;
  }
  if (finished === null) throw unavailable();
  const row = await deps.db('verification_report_copies').where({ id }).first('signed_pdf');
  if (!row?.signed_pdf) throw expired();
  return Buffer.from(row.signed_pdf);
}

function failureTypes(e: unknown): string[] {
  const types: string[] = [];
  for (let cur = e as { cause?: unknown; type?: unknown } | undefined; cur; cur = cur.cause as typeof cur) if (typeof cur.type === 'string') types.push(cur.type);
  return types;
}

const fileName = (report: VerificationReport) => `verification-report-${report.document.sha256.slice(0, 16)}.pdf`;

/** POST /api/verifications with Accept: application/pdf: verify, then the report signed by the platform. */
export async function verifyToSignedPdf(deps: Pick<Deps, 'db' | 'temporal' | 'config'>, req: VerifyRequest, now = new Date()): Promise<{ pdf: Buffer; fileName: string; report: VerificationReport }> {
  const report = await verifyDocument(deps.db, req, now);
  const { id } = await keep(deps.db, report, detachedOf(req.signature), false, now);
  try {
    return { pdf: await signedPdf(deps, id), fileName: fileName(report), report };
  } finally {
    await deps.db('verification_report_copies').where({ id }).delete(); // answered: nothing is kept
  }
}

/** The page's download: the kept report of this token, signed by the platform. */
export async function downloadSignedReport(deps: Pick<Deps, 'db' | 'temporal' | 'config'>, token: unknown, now = new Date()): Promise<{ pdf: Buffer; fileName: string }> {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(token)) throw expired();
  const row = await deps.db('verification_report_copies').where({ token_sha256: sha256(token) }).where('expires_at', '>', now).first('id', 'report');
  if (!row) throw expired();
  return { pdf: await signedPdf(deps, row.id), fileName: fileName(row.report as VerificationReport) };
}
