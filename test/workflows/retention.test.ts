// Retention at its real durations on Temporal's Java time-skipping test server: premises video kept 90 days,
// then purged unless a legal hold is on it (M8); a seal's archive kept 5 years on the Asia/Shanghai
// calendar after the seal ends, then disposed of only on a supervisor's approval (M7). Nothing is mocked:
// the project's activities run against the PostgreSQL, content store and SoftHSM2 token of
// scripts/with-stack.ts, and segments and decisions go through the use-cases the web calls.
//   node --import tsx scripts/with-stack.ts -- npx jest test/workflows/retention.test.ts
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { unzipSync } from 'fflate';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createDbActivities } from '../../activities';
import { createRetentionDbActivities } from '../../activities/retention';
import { addCalendarMonthsEndOfDay, addIsoDuration, shanghaiDate, shanghaiEndOfDay } from '../../domain/calendar';
import { BlobStore, blobStoreFromConfig, bufferedFile, S3BlobStore } from '../../infra/blobs';
import { loadConfig, type Config } from '../../infra/config';
import type { WorkerTokens } from '../../infra/hsm/tokens';
import { applicationWorkflowId, recordProduction, submitApplication, submitFiling, uploadMaterial } from '../../usecases/applications';
import { decideTask } from '../../usecases/tasks';
import { registerFromMarketFeed } from '../../usecases/licences';
import type { Deps } from '../../usecases/deps';
import { archiveWorkflowId, decideArchiveDisposal, getArchive, listArchiveDisposalTasks } from '../../usecases/retention-archives';
import {
  deleteVideoSegment,
  exportVideoSegment,
  liftLegalHold,
  placeLegalHold,
  uploadVideoSegment,
  videoWorkflowId,
  viewVideoSegment,
} from '../../usecases/retention-video';
import type { Actor, Role } from '../../web/auth';
import { caseStateQuery } from '../../workflows/application-messages';
import { archiveRetentionQuery, decideDisposalUpdate, sealEndedSignal, videoRetentionQuery } from '../../workflows/retention-messages';
import { applyChangeUpdate } from '../../workflows/seal-messages';
import { sealWorkflow } from '../../workflows/seal';
import { connectWorkerContext, type WorkerContext } from '../../workers/connect';
import { createHsmWorker, openHsm } from '../../workers/hsm-worker';
import { runWorkersUntil } from '../helpers/run-workers';
import { createMaker, makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, recentRegistrationDate } from '../helpers/fixtures';
import { createUser, testConfig, createActor } from '../helpers/stack';
import { bundleWorkflowsQuietly, createTimeSkippingEnv } from '../helpers/time-skipping';
import { eventually } from '../helpers/wait';
import { s3StoreEnv, startS3TestServer } from '../helpers/s3-server';
import { PRODUCTION_DATA } from '../helpers/production-data';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const CHAOYANG = '110105';
const HAIDIAN = '110108';
const ACCESS = { clientAddress: '127.0.0.1' };

let config: Config;
let ctx: WorkerContext;
let tokens: WorkerTokens;
let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundleWithSourceMap;
let blobs: BlobStore;
let makerId: string;
let maker: Actor;
let chaoyangOfficer: Actor;
let haidianOfficer: Actor;
let supervisor: Actor;
let admin: Actor;

const actor = (role: Role, scope: { district_code?: string; maker_id?: string; holder_id?: string } = {}): Promise<Actor> => createActor(ctx.db, role, scope);

/** The Java test server knows only its own search attributes; the application workflow upserts CaseStatus. */
async function registerSearchAttributes() {
  type Request = Parameters<typeof env.connection.operatorService.addSearchAttributes>[0];
  type IndexedValueType = NonNullable<Request['searchAttributes']>[string];
  const indexed: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };
  const searchAttributes = Object.fromEntries(Object.entries(config.temporal.searchAttributes).map(([name, type]) => [name, indexed[type] as unknown as IndexedValueType]));
  await env.connection.operatorService.addSearchAttributes({ namespace: env.namespace ?? 'default', searchAttributes }).catch((e: { code?: number }) => {
    if (e.code !== 6) throw e; // ALREADY_EXISTS
  });
}

beforeAll(async () => {
  config = testConfig();
  ctx = await connectWorkerContext(config);
  tokens = await openHsm(ctx);
  blobs = new BlobStore(path.join(config.runtime.dataDir, 'blobs'));
  env = await createTimeSkippingEnv();
  await registerSearchAttributes();
  workflowBundle = await bundleWorkflowsQuietly(require.resolve('../../workflows'));
  makerId = await createMaker(ctx.db); // premises in Chaoyang (110105)
  maker = await actor('maker', { maker_id: makerId });
  chaoyangOfficer = await actor('officer', { district_code: CHAOYANG });
  haidianOfficer = await actor('officer', { district_code: HAIDIAN });
  supervisor = await actor('supervisor');
  admin = await actor('admin');
});

afterAll(async () => {
  await env?.teardown();
  await tokens?.close();
  await ctx?.close();
});

/**
 * One test's workers (main queue: every workflow and the database activities; HSM queue), then its open
 * workflows terminated. `store`: another blob store for the use-cases and the retention activities alike.
 */
async function withWorkers(fn: (deps: Deps, started: string[]) => Promise<void>, store?: BlobStore) {
  const id = randomUUID();
  const taskQueues = { main: `eseal-main-${id}`, hsm: `eseal-hsm-${id}` };
  const deps: Deps = { db: ctx.db, temporal: env.client, config: { ...config, temporal: { ...config.temporal, namespace: env.namespace ?? 'default', taskQueues } }, blobs: store ?? blobs, hsm: tokens.web };
  const activities = { ...createDbActivities({ db: ctx.db, pdf: ctx.pdf }), ...(store ? createRetentionDbActivities(ctx.db, { blobs: store }) : {}) };
  const mainWorker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace, taskQueue: taskQueues.main, workflowBundle, activities });
  const hsmWorker = await createHsmWorker({ ...ctx, connection: env.nativeConnection, config: deps.config }, tokens);
  const started: string[] = [];
  await runWorkersUntil([mainWorker, hsmWorker], async () => {
    try {
      await fn(deps, started);
    } finally {
      for (const workflowId of started) {
        await env.client.workflow
          .getHandle(workflowId)
          .terminate('test finished')
          .catch((e: Error) => {
            if (!(e instanceof WorkflowNotFoundError) && !/already completed/i.test(e.message)) throw e;
          });
      }
    }
  });
}

const ms = (d: Date | string) => new Date(d).getTime();
const serverNow = async () => env.currentTimeMs();

/** Sleeps on the test server's clock until `instant` + `offsetMs` (time is skipped, nothing is shortened). */
async function sleepUntil(instant: Date | string, offsetMs: number) {
  const wait = ms(instant) + offsetMs - (await serverNow());
  if (wait > 0) await env.sleep(wait);
  expect(await serverNow()).toBeGreaterThanOrEqual(ms(instant) + offsetMs);
}

// ---------- M8 helpers ----------

/** A small MP4 (ftyp box, then bytes): the store judges video by content. */
const videoBytes = () => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2', 'latin1'), randomBytes(4096)]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function storeSegment(deps: Deps, started: string[], bytes = videoBytes()) {
  const end = new Date(Date.now() - 10 * MINUTE);
  const start = new Date(end.getTime() - HOUR);
  const file = bufferedFile(bytes, 'cam-01.mp4');
  const fields = { camera_id: `cam-${randomUUID().slice(0, 8)}`, recorded_start: start.toISOString(), recorded_end: end.toISOString(), sha256: sha256(bytes) };
  const before = await serverNow();
  const out = await uploadVideoSegment(deps, maker, { fields, file }, ACCESS);
  expect(out.created).toBe(true);
  started.push(videoWorkflowId(out.segment.id));
  const seg = await eventually('retain_until', () => ctx.db('video_segments').where({ id: out.segment.id }).first(), (r) => r.retain_until !== null);
  // P90D from temporal.yaml, from the moment the workflow took the segment.
  expect(ms(seg.retain_until) - before).toBeGreaterThanOrEqual(90 * DAY);
  expect(ms(seg.retain_until) - before).toBeLessThan(90 * DAY + MINUTE);
  return { id: out.segment.id as string, bytes, seg };
}

const log = (segmentId: string) => ctx.db('video_access_log').where({ segment_id: segmentId }).orderBy('id').select('action', 'outcome', 'code', 'actor_id', 'actor_role', 'reason', 'client_address');
const fileExists = (deps: Deps, sha: string) => deps.blobs.has(sha);

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// ---------- M8 ----------

test('M8: for 90 days a segment cannot be deleted (each attempt logged) but may be viewed by the district\'s police with a reason and exported only for a named case; at 90 days the retention policy purges it, bytes deleted, tombstone kept', async () => {
  await withWorkers(async (deps, started) => {
    const { id, bytes, seg } = await storeSegment(deps, started);
    expect(await fileExists(deps, seg.blob_sha256)).toBe(true);

    // A hold placed and lifted within the 90 days does not change who orders the purge.
    const held = await placeLegalHold(deps, chaoyangOfficer, id, { reason: '核查可疑人员进出' }, ACCESS);
    expect(held.status).toBe('held');
    await liftLegalHold(deps, chaoyangOfficer, id, { reason: '核查完毕' }, ACCESS);

    // A minute before the 90 days: still there, nothing deletes or exports it.
    await sleepUntil(seg.retain_until, -MINUTE);
    expect((await env.client.workflow.getHandle(videoWorkflowId(id)).query(videoRetentionQuery)).status).toBe('retained');
    await expect(deleteVideoSegment(deps, maker, id, '磁盘空间不足', ACCESS)).rejects.toMatchObject({ code: 'VIDEO_UNDER_RETENTION', httpStatus: 409 });
    await expect(deleteVideoSegment(deps, supervisor, id, undefined, ACCESS)).rejects.toMatchObject({ code: 'VIDEO_UNDER_RETENTION', httpStatus: 409 });
    // Within the 90 days the district's police export it for a case (the maker never does; M8).
    await expect(exportVideoSegment(deps, chaoyangOfficer, id, { reason: '调取证据' }, ACCESS)).rejects.toMatchObject({ code: 'REQUIRED_FIELD', field: 'case_reference' });
    await expect(exportVideoSegment(deps, maker, id, { reason: '自行备份', case_reference: 'X1' }, ACCESS)).rejects.toMatchObject({ status: 403 });
    await expect(viewVideoSegment(deps, chaoyangOfficer, id, undefined, ACCESS)).rejects.toMatchObject({ code: 'REQUIRED_FIELD', field: 'reason' });
    await expect(viewVideoSegment(deps, haidianOfficer, id, '巡查', ACCESS)).rejects.toMatchObject({ status: 403 });
    const viewed = await viewVideoSegment(deps, chaoyangOfficer, id, '例行检查制作场所', ACCESS);
    expect((await readAll(viewed.stream)).equals(bytes)).toBe(true);
    expect(await fileExists(deps, seg.blob_sha256)).toBe(true);
    expect((await ctx.db('video_segments').where({ id }).first('status')).status).toBe('retained');

    // Past the 90 days: purged by the retention policy.
    await sleepUntil(seg.retain_until, MINUTE);
    const purged = await eventually('purge', () => ctx.db('video_segments').where({ id }).first(), (r) => r.status === 'purged');
    expect(purged).toMatchObject({ purge_basis: 'retention_policy', purge_ordered_by: null, sha256: seg.sha256, camera_id: seg.camera_id });
    expect(ms(purged.purged_at)).toBeGreaterThanOrEqual(ms(seg.retain_until));
    expect(ms(purged.purged_at)).toBeLessThan(ms(seg.retain_until) + SECOND);
    // The tombstone keeps hash and dates; the bytes are gone from the store.
    expect(ms(purged.recorded_start)).toBe(ms(seg.recorded_start));
    expect(ms(purged.stored_at)).toBe(ms(seg.stored_at));
    expect(ms(purged.retain_until)).toBe(ms(seg.retain_until));
    expect(await fileExists(deps, seg.blob_sha256)).toBe(false);
    expect((await ctx.db('blobs').where({ sha256: seg.blob_sha256 }).first('erased_at')).erased_at).not.toBeNull();
    const result = await env.client.workflow.getHandle(videoWorkflowId(id)).result();
    expect(result).toMatchObject({ status: 'purged', purgeBasis: 'retention_policy', purgeOrderedBy: null });
    await expect(viewVideoSegment(deps, chaoyangOfficer, id, '查看', ACCESS)).rejects.toMatchObject({ code: 'VIDEO_PURGED', httpStatus: 410 });

    // Every attempt is in the access log: who, what, why, outcome.
    const entries = await log(id);
    expect(entries.map((e) => `${e.action}:${e.outcome}:${e.code ?? ''}`)).toEqual([
      'upload:allowed:',
      'place_legal_hold:allowed:',
      'lift_legal_hold:allowed:',
      'delete:refused:VIDEO_UNDER_RETENTION',
      'delete:refused:VIDEO_UNDER_RETENTION',
      'export:refused:REQUIRED_FIELD',
      'export:refused:forbidden',
      'view:refused:REQUIRED_FIELD',
      'view:refused:forbidden',
      'view:allowed:',
      'view:refused:VIDEO_PURGED',
    ]);
    expect(entries[3]).toMatchObject({ actor_id: maker.userId, actor_role: 'maker', reason: '磁盘空间不足', client_address: '127.0.0.1' });
    expect(entries[9]).toMatchObject({ actor_id: chaoyangOfficer.userId, reason: '例行检查制作场所' });
  });
});

test('M8: a legal hold keeps a segment past 90 days (police may then export it with a reason); lifting the last hold lets the purge proceed, and the tombstone names who lifted it', async () => {
  await withWorkers(async (deps, started) => {
    const { id, bytes, seg } = await storeSegment(deps, started);
    await expect(placeLegalHold(deps, chaoyangOfficer, id, {}, ACCESS)).rejects.toMatchObject({ code: 'REQUIRED_FIELD', field: 'reason' });
    await expect(placeLegalHold(deps, haidianOfficer, id, { reason: '跨区调查' }, ACCESS)).rejects.toMatchObject({ status: 403 });
    const officerHold = await placeLegalHold(deps, chaoyangOfficer, id, { reason: '涉嫌伪造印章案件调查' }, ACCESS);
    expect(officerHold.legal_holds).toHaveLength(1);

    await sleepUntil(seg.retain_until, DAY);
    // Not purged: the hold keeps it.
    expect(await ctx.db('video_segments').where({ id }).first('status')).toEqual({ status: 'retained' });
    expect(await fileExists(deps, seg.blob_sha256)).toBe(true);
    expect((await env.client.workflow.getHandle(videoWorkflowId(id)).query(videoRetentionQuery)).status).toBe('held');
    await expect(deleteVideoSegment(deps, supervisor, id, '案件已结', ACCESS)).rejects.toMatchObject({ code: 'VIDEO_LEGAL_HOLD', httpStatus: 409 });
    await expect(exportVideoSegment(deps, maker, id, { reason: '备份' }, ACCESS)).rejects.toMatchObject({ status: 403 });
    await expect(exportVideoSegment(deps, chaoyangOfficer, id, {}, ACCESS)).rejects.toMatchObject({ code: 'REQUIRED_FIELD' });
    const exported = await exportVideoSegment(deps, chaoyangOfficer, id, { reason: '移送检察院（京朝检2027-01号）', case_reference: '京朝检2027-01' }, ACCESS);
    expect(unzipSync(await readAll(exported.stream))[exported.watermark.file]).toEqual(new Uint8Array(bytes));
    expect(exported.sha256).toBe(seg.sha256);

    // A supervisor's hold too; the officer lifts their own (several holds: the one to lift is named).
    const both = await placeLegalHold(deps, supervisor, id, { reason: '市局督办' }, ACCESS);
    expect(both.legal_holds).toHaveLength(2);
    await expect(liftLegalHold(deps, chaoyangOfficer, id, { reason: '结案' }, ACCESS)).rejects.toMatchObject({ field: 'hold_id' });
    const supervisorHold = both.legal_holds!.find((h) => h.role === 'supervisor')!;
    await expect(liftLegalHold(deps, chaoyangOfficer, id, { hold_id: supervisorHold.id, reason: '结案' }, ACCESS)).rejects.toMatchObject({ status: 403 });
    const one = await liftLegalHold(deps, chaoyangOfficer, id, { hold_id: officerHold.legal_holds![0]!.id, reason: '本案结案' }, ACCESS);
    expect(one.status).toBe('held');
    await env.sleep(10 * DAY);
    expect((await ctx.db('video_segments').where({ id }).first('status')).status).toBe('retained');
    expect(await fileExists(deps, seg.blob_sha256)).toBe(true);

    // The supervisor lifts the last hold: purged at once, ordered by the supervisor.
    const liftedAt = await serverNow();
    await liftLegalHold(deps, supervisor, id, { reason: '督办事项办结' }, ACCESS);
    const purged = await eventually('purge', () => ctx.db('video_segments').where({ id }).first(), (r) => r.status === 'purged');
    expect(purged).toMatchObject({ purge_basis: 'legal_hold_lifted', purge_ordered_by: supervisor.userId, sha256: seg.sha256 });
    expect(ms(purged.purged_at)).toBeGreaterThanOrEqual(liftedAt);
    expect(ms(purged.purged_at)).toBeLessThan(liftedAt + MINUTE);
    expect(await fileExists(deps, seg.blob_sha256)).toBe(false);
    const holds = await ctx.db('video_legal_holds').where({ segment_id: id }).orderBy('placed_at');
    expect(holds.map((h) => [h.placed_role, h.lifted_role, h.lift_reason])).toEqual([
      ['officer', 'officer', '本案结案'],
      ['supervisor', 'supervisor', '督办事项办结'],
    ]);
    expect((await env.client.workflow.getHandle(videoWorkflowId(id)).result()).purgeOrderedBy).toBe(supervisor.userId);
    const exports = (await log(id)).filter((e) => e.action === 'export');
    expect(exports.map((e) => `${e.outcome}:${e.code ?? ''}:${e.reason ?? ''}`)).toEqual(['refused:forbidden:备份', 'refused:REQUIRED_FIELD:', 'allowed::移送检察院（京朝检2027-01号）']);
  });
});

test('M8: with the S3 store configured a segment is stored in the bucket (not on local disk), read back verified, kept the 90 days and then purged from the bucket by the retention workflow, tombstone kept', async () => {
  const server = await startS3TestServer();
  const bucket = 'eseal-video';
  // Selected by configuration alone, as a deployment would; the use-cases and the retention activities share it.
  const configured = blobStoreFromConfig(
    loadConfig({ ...process.env, ...s3StoreEnv(server, bucket, 'video/') }),
  );
  expect(configured).toBeInstanceOf(S3BlobStore);
  const s3 = configured as S3BlobStore;
  try {
    await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
    await withWorkers(async (deps, started) => {
      const { id, bytes, seg } = await storeSegment(deps, started);
      // The object is where its address says, in the server's own folder; nothing went to local disk.
      const object = path.join(server.root, bucket, s3.keyOf(seg.blob_sha256));
      expect(readFileSync(object).includes(bytes.subarray(0, 256))).toBe(false); // encrypted (P1)
      expect(await blobs.has(seg.blob_sha256)).toBe(false);
      const viewed = await viewVideoSegment(deps, chaoyangOfficer, id, '例行检查制作场所', ACCESS);
      expect((await readAll(viewed.stream)).equals(bytes)).toBe(true);
      expect(viewed.sha256).toBe(seg.sha256);

      await sleepUntil(seg.retain_until, -MINUTE);
      expect(await s3.has(seg.blob_sha256)).toBe(true);
      await expect(deleteVideoSegment(deps, supervisor, id, '腾出存储空间', ACCESS)).rejects.toMatchObject({ code: 'VIDEO_UNDER_RETENTION' });

      await sleepUntil(seg.retain_until, MINUTE);
      const purged = await eventually('purge', () => ctx.db('video_segments').where({ id }).first(), (r) => r.status === 'purged');
      expect(purged).toMatchObject({ purge_basis: 'retention_policy', purge_ordered_by: null, sha256: seg.sha256 });
      expect(ms(purged.purged_at)).toBeGreaterThanOrEqual(ms(seg.retain_until));
      expect(await s3.has(seg.blob_sha256)).toBe(false);
      expect(existsSync(object)).toBe(false);
      // The purge activity retried (a lost acknowledgement) changes nothing and does not fail on the missing object.
      const again = await createRetentionDbActivities(ctx.db, { blobs: s3 }).purgeVideoSegment({ segmentId: id, basis: 'retention_policy', orderedBy: null, at: new Date(await serverNow()).toISOString() });
      expect(again).toEqual({ bytesDeleted: true });
      expect(await ctx.db('video_segments').where({ id }).first('status', 'purged_at')).toEqual({ status: 'purged', purged_at: purged.purged_at });
      await expect(viewVideoSegment(deps, chaoyangOfficer, id, '查看', ACCESS)).rejects.toMatchObject({ code: 'VIDEO_PURGED', httpStatus: 410 });
    }, s3);
  } finally {
    s3.destroy();
    await server.stop();
  }
});

// ---------- M7 helpers ----------

/**
 * A live seal of a Haidian holder with the archive of a real case (the production path is tested elsewhere):
 * its application (handler ID and phone, materials, on-site image), a personal seal's person ID, a keeper,
 * and a stop request with the legal representative's ID and an authorisation letter. One material's file is
 * also a material of another holder's live case (content-addressed store: one file, two archives).
 */
async function archiveFixture() {
  const makerUser = await createUser(ctx.db, 'maker', { maker_id: makerId });
  const newHolder = async () => {
    const id = randomUUID();
    await ctx.db('holders').insert({ id, uscc: makeUscc(HAIDIAN), name: `北京档案测试有限公司${id.slice(0, 4)}`, kind: 'enterprise', district_code: HAIDIAN, address: '北京市海淀区' });
    return id;
  };
  const newCase = async (holderId: string, extra: Record<string, unknown> = {}) => {
    const id = randomUUID();
    await ctx.db('cases').insert({ id, maker_id: makerId, holder_id: holderId, district_code: HAIDIAN, status: 'collected', language: 'zh', handler_name: '钱经办', handler_id_number: makeResidentId(), handler_phone: '13900139000', created_by: makerUser.id, ...extra });
    return id;
  };
  const material = async (caseId: string, kind: string, bytes: Buffer) => {
    const { sha256: sha } = await blobs.put(bytes);
    await ctx.db('blobs').insert({ sha256: sha, content_type: kind === 'on_site_image' ? 'image/png' : 'application/pdf', size: bytes.length }).onConflict('sha256').ignore();
    const id = randomUUID();
    await ctx.db('materials').insert({ id, case_id: caseId, kind, original_name: `${kind}.pdf`, blob_sha256: sha, uploaded_by: makerUser.id });
    return sha;
  };
  const unique = (base: Buffer) => Buffer.concat([base, Buffer.from(`\n%${randomUUID()}\n`)]);

  const holderId = await newHolder();
  const caseId = await newCase(holderId);
  const sealId = randomUUID();
  await ctx.db('seals').insert({ id: sealId, case_id: caseId, holder_id: holderId, kind: 'personal_name', text: '孙法人', person_name: '孙法人', person_role: 'legal_representative', person_id_number: makeResidentId(), status: 'active', seal_code: `110108${String(Date.now() % 1e7).padStart(7, '0')}` });
  const letter = await material(caseId, 'introduction_letter', unique(PDF_BYTES));
  const image = await material(caseId, 'on_site_image', Buffer.concat([PNG_BYTES, randomBytes(16)]));
  const shared = await material(caseId, 'establishment_document', unique(PDF_BYTES));
  await ctx.db('seal_keepers').insert({ id: randomUUID(), seal_id: sealId, name: '李保管', id_number: makeResidentId() });
  const stopCaseId = await newCase(holderId, { kind: 'stop', subject_seal_id: sealId, legal_rep_id_number: makeResidentId(), status: 'processing' });
  const authorisation = await material(stopCaseId, 'holder_authorisation_letter', unique(PDF_BYTES));
  // Another holder's live case uses the same establishment document file.
  const otherHolderId = await newHolder();
  const otherCaseId = await newCase(otherHolderId);
  await ctx.db('seals').insert({ id: randomUUID(), case_id: otherCaseId, holder_id: otherHolderId, kind: 'business_contract', number: 99, text: '合同专用章', status: 'active' });
  await ctx.db('materials').insert({ id: randomUUID(), case_id: otherCaseId, kind: 'establishment_document', original_name: 'shared.pdf', blob_sha256: shared, uploaded_by: makerUser.id });
  return { sealId, caseId, stopCaseId, otherCaseId, files: { letter, image, shared, authorisation } };
}

/** The seal's own workflow applies a stop (M12): the seal ends, and its archive's retention starts (M7). */
async function stopSeal(deps: Deps, started: string[], sealId: string, stopCaseId: string) {
  const handle = await env.client.workflow.start(sealWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: `seal:${sealId}`,
    args: [{ sealId, districtCode: HAIDIAN, hsmTaskQueue: deps.config.temporal.taskQueues.hsm, status: 'active' }],
  });
  started.push(`seal:${sealId}`, archiveWorkflowId(sealId));
  const stoppedAt = await serverNow();
  expect(await handle.executeUpdate(applyChangeUpdate, { args: [{ changeCaseId: stopCaseId, kind: 'stop', reason: null }] })).toEqual({ status: 'stopped' });
  const archive = await eventually('archive retention', () => ctx.db('archive_retention').where({ seal_id: sealId }).first(), (r) => !!r);
  expect(archive).toMatchObject({ end_kind: 'stopped', status: 'retained', policy: 'P5Y' });
  expect(ms(archive.ended_at)).toBeGreaterThanOrEqual(stoppedAt);
  expect(ms(archive.ended_at)).toBe(ms((await ctx.db('seals').where({ id: sealId }).first('stopped_at')).stopped_at));
  return archive as { ended_at: Date; retain_until: Date };
}

/** The end of the Shanghai calendar day five calendar years after `instant` (temporal.yaml P5Y). */
const fiveYearsAfter = (instant: Date | string) => shanghaiEndOfDay(shanghaiDate(addIsoDuration(new Date(instant), 'P5Y')));

// ---------- M7 ----------

test('M7: stopping a seal starts its archive retention; for 5 years nothing can dispose of the archive; then a supervisor\'s disposal task; the approved disposal erases personal data and files, and a tombstone stays', async () => {
  await withWorkers(async (deps, started) => {
    const f = await archiveFixture();
    const archive = await stopSeal(deps, started, f.sealId, f.stopCaseId);
    const retainUntil = fiveYearsAfter(archive.ended_at);
    expect(ms(archive.retain_until)).toBe(retainUntil.getTime());
    expect(retainUntil.getTime() - ms(archive.ended_at)).toBeGreaterThanOrEqual(5 * 365 * DAY);
    const handle = env.client.workflow.getHandle(archiveWorkflowId(f.sealId));
    expect((await getArchive(deps, haidianOfficer, f.sealId)).status).toBe('retained');
    await expect(getArchive(deps, chaoyangOfficer, f.sealId)).rejects.toMatchObject({ status: 403 });

    // A day before the five years are over: nothing can dispose of it.
    await sleepUntil(retainUntil, -DAY);
    expect(await ctx.db('archive_disposal_tasks').where({ seal_id: f.sealId })).toHaveLength(0);
    expect((await listArchiveDisposalTasks(deps, supervisor, {})).map((t) => t.seal_id)).not.toContain(f.sealId);
    expect((await handle.query(archiveRetentionQuery)).status).toBe('retained');
    // … not a decision through the workflow (there is no task) …
    const refused = await handle.executeUpdate(decideDisposalUpdate, { args: [{ taskId: randomUUID(), decision: 'approve', reason: null, supervisorId: supervisor.userId }] }).catch((e) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause).toMatchObject({ type: 'ARCHIVE_UNDER_RETENTION' });
    await expect(decideArchiveDisposal(deps, supervisor, randomUUID(), { decision: 'approve' })).rejects.toMatchObject({ status: 404 });
    // … not the disposal activity itself …
    const direct = createRetentionDbActivities(ctx.db);
    await expect(direct.disposeArchive({ sealId: f.sealId, taskId: randomUUID(), approvedBy: supervisor.userId, reason: null, at: new Date(await serverNow()).toISOString() })).rejects.toMatchObject({ type: 'ArchiveUnderRetention' });
    // … and not the database, even for its owner: no deletion, no erasure of personal data, no early approval.
    await expect(ctx.db('materials').where({ case_id: f.caseId }).del()).rejects.toThrow(/M7/);
    await expect(ctx.db('cases').where({ id: f.caseId }).del()).rejects.toThrow(/M7/);
    await expect(ctx.db('cases').where({ id: f.caseId }).update({ handler_id_number: null })).rejects.toThrow(/M7/);
    await expect(ctx.db('seals').where({ id: f.sealId }).update({ person_id_number: null })).rejects.toThrow(/M7/);
    await expect(ctx.db('archive_retention').where({ seal_id: f.sealId }).update({ status: 'disposal_approved', disposal_approved_by: supervisor.userId, disposal_approved_at: new Date(await serverNow()) })).rejects.toThrow(/M7/);
    for (const sha of Object.values(f.files)) expect(await deps.blobs.has(sha)).toBe(true);

    // The five years are over: a disposal task for supervisors (city level).
    await sleepUntil(retainUntil, MINUTE);
    const state = await eventually('disposal task', () => handle.query(archiveRetentionQuery), (s) => s.status === 'awaiting_disposal_decision');
    const task = (await listArchiveDisposalTasks(deps, supervisor, {})).find((t) => t.seal_id === f.sealId)!;
    expect(task).toMatchObject({ id: state.openTask!.id, status: 'open', district_code: HAIDIAN, end_kind: 'stopped' });
    expect(ms(task.opened_at)).toBeGreaterThanOrEqual(retainUntil.getTime());
    expect(ms(task.retain_until)).toBe(retainUntil.getTime());
    await expect(listArchiveDisposalTasks(deps, haidianOfficer, {})).rejects.toMatchObject({ status: 403 });
    await expect(decideArchiveDisposal(deps, haidianOfficer, task.id, { decision: 'approve' })).rejects.toMatchObject({ status: 403 });
    await expect(decideArchiveDisposal(deps, supervisor, task.id, { decision: 'destroy' })).rejects.toMatchObject({ field: 'decision' });
    // Still nothing erased while the task waits.
    expect((await ctx.db('cases').where({ id: f.caseId }).first('handler_id_number')).handler_id_number).not.toBeNull();

    const decided = await decideArchiveDisposal(deps, supervisor, task.id, { decision: 'approve', reason: '保存期满，经审核准予销毁' });
    expect(decided).toMatchObject({ decision: 'approve', archive_status: 'disposed' });
    expect(decided.archive).toMatchObject({ status: 'disposed' });
    expect(await handle.result()).toMatchObject({ status: 'disposed', reviews: 1 });

    // Personal data erased in every case of the seal; the records themselves stay.
    for (const id of [f.caseId, f.stopCaseId]) {
      const c = await ctx.db('cases').where({ id }).first();
      expect(c).toMatchObject({ handler_name: null, handler_id_number: null, handler_phone: null, legal_rep_id_number: null });
    }
    const seal = await ctx.db('seals').where({ id: f.sealId }).first();
    expect(seal).toMatchObject({ status: 'stopped', person_id_number: null, kind: 'personal_name' });
    expect((await ctx.db('seal_keepers').where({ seal_id: f.sealId }).first('id_number')).id_number).toBeNull();
    expect(await ctx.db('materials').whereIn('case_id', [f.caseId, f.stopCaseId])).toHaveLength(4);
    // The files are gone, except the one another, live archive still needs.
    for (const sha of [f.files.letter, f.files.image, f.files.authorisation]) {
      expect(await deps.blobs.has(sha)).toBe(false);
      expect((await ctx.db('blobs').where({ sha256: sha }).first('erased_at')).erased_at).not.toBeNull();
    }
    expect(await deps.blobs.has(f.files.shared)).toBe(true);
    expect((await blobs.get(f.files.shared)).length).toBeGreaterThan(0);
    expect((await ctx.db('cases').where({ id: f.otherCaseId }).first('handler_id_number')).handler_id_number).not.toBeNull();

    // The tombstone: seal, dates, approver, what was erased; append-only.
    const tombstone = await ctx.db('archive_tombstones').where({ seal_id: f.sealId }).first();
    expect(tombstone).toMatchObject({ task_id: task.id, seal_code: seal.seal_code, end_kind: 'stopped', approved_by: supervisor.userId, approval_reason: '保存期满，经审核准予销毁' });
    expect(ms(tombstone.retain_until)).toBe(retainUntil.getTime());
    expect(ms(tombstone.disposed_at)).toBeGreaterThanOrEqual(retainUntil.getTime());
    expect(tombstone.erased.fields.cases).toEqual({ columns: ['handler_name', 'handler_id_number', 'handler_phone', 'legal_rep_id_number', 'handler_id_number_hmac', 'legal_rep_id_number_hmac', 'legal_rep_name', 'legal_rep_phone'], rows: 2 });
    expect(tombstone.erased.materials.filter((m: { bytes: string }) => m.bytes === 'erased')).toHaveLength(3);
    expect(tombstone.erased.materials.find((m: { sha256: string }) => m.sha256 === f.files.shared).bytes).toBe('kept_still_needed');
    await expect(ctx.db('archive_tombstones').where({ seal_id: f.sealId }).del()).rejects.toThrow(/permission denied for table archive_tombstones/); // M5: not granted; the trigger refuses even the owner
    await expect(ctx.db('archive_retention').where({ seal_id: f.sealId }).update({ retain_until: new Date() })).rejects.toThrow(/M7/);
    expect((await ctx.db('archive_disposal_tasks').where({ id: task.id }).first()).decided_by).toBe(supervisor.userId);
  });
});

test('M7: a later end (a stopped seal cancelled a year on) restarts the five years from it; a supervisor may keep the archive for another period, with a reason', async () => {
  await withWorkers(async (deps, started) => {
    const f = await archiveFixture();
    const archive = await stopSeal(deps, started, f.sealId, f.stopCaseId);
    const handle = env.client.workflow.getHandle(archiveWorkflowId(f.sealId));
    await env.sleep(365 * DAY);
    // What the seal's workflow sends when the stopped seal is then cancelled.
    const cancelledAt = new Date(await serverNow()).toISOString();
    await handle.signal(sealEndedSignal, { kind: 'cancelled', at: cancelledAt });
    const extended = fiveYearsAfter(cancelledAt);
    await eventually('extended retention', () => ctx.db('archive_retention').where({ seal_id: f.sealId }).first(), (r) => ms(r.retain_until) === extended.getTime());
    expect((await ctx.db('archive_retention').where({ seal_id: f.sealId }).first()).end_kind).toBe('cancelled');

    // Past five years from the stop, but not from the cancellation: still kept.
    await sleepUntil(fiveYearsAfter(archive.ended_at), DAY);
    expect(await ctx.db('archive_disposal_tasks').where({ seal_id: f.sealId })).toHaveLength(0);
    await sleepUntil(extended, MINUTE);
    const state = await eventually('disposal task', () => handle.query(archiveRetentionQuery), (s) => s.openTask !== null);

    // Kept for another period: a reason is required, nothing is erased, and the next review is five years on.
    await expect(decideArchiveDisposal(deps, supervisor, state.openTask!.id, { decision: 'retain' })).rejects.toMatchObject({ field: 'reason' });
    const keptAt = await serverNow();
    const kept = await decideArchiveDisposal(deps, supervisor, state.openTask!.id, { decision: 'retain', reason: '涉诉案件尚未审结，继续保存' });
    expect(kept.archive_status).toBe('retained');
    const again = await eventually('next retention', () => ctx.db('archive_retention').where({ seal_id: f.sealId }).first(), (r) => r.status === 'retained' && ms(r.retain_until) > extended.getTime());
    expect(ms(again.retain_until)).toBeGreaterThanOrEqual(fiveYearsAfter(new Date(keptAt)).getTime());
    expect(ms(again.retain_until)).toBeLessThanOrEqual(fiveYearsAfter(new Date(keptAt + MINUTE)).getTime());
    expect((await ctx.db('cases').where({ id: f.caseId }).first('handler_id_number')).handler_id_number).not.toBeNull();
    for (const sha of Object.values(f.files)) expect(await deps.blobs.has(sha)).toBe(true);
    expect(await ctx.db('archive_tombstones').where({ seal_id: f.sealId })).toHaveLength(0);
    const tasks = await ctx.db('archive_disposal_tasks').where({ seal_id: f.sealId });
    expect(tasks).toMatchObject([{ status: 'done', decision: 'retain', reason: '涉诉案件尚未审结，继续保存', decided_by: supervisor.userId }]);
  });
});

test('M7 M9: a seal cancelled as unclaimed after 3 months starts its archive retention from the cancellation', async () => {
  await withWorkers(async (deps, started) => {
    const officer = haidianOfficer;
    const holder = { uscc: makeUscc(HAIDIAN), name: `北京未领取档案有限公司${randomUUID().slice(0, 4)}`, kind: 'enterprise', address: '北京市海淀区中关村大街27号', district: HAIDIAN, legal_representative: '王五' };
    await registerFromMarketFeed(deps, admin, { ...holder, registration_date: recentRegistrationDate() });
    const created = await submitApplication(deps, maker, { holder, seal: { kind: 'business_finance', language: 'zh' }, handler: { name: '赵六', id_number: makeResidentId(), phone: '13800138000' } });
    started.push(applicationWorkflowId(created.id));
    const caseState = () => env.client.workflow.getHandle(applicationWorkflowId(created.id)).query(caseStateQuery);
    await eventually('awaiting production', caseState, (s) => s.status === 'awaiting_production');
    const image = await uploadMaterial(deps, maker, created.id, { kind: 'on_site_image', file: bufferedFile(PNG_BYTES, 'onsite.png') });
    await recordProduction(deps, maker, created.id, { production_data: PRODUCTION_DATA, on_site_image_id: image.id });
    await eventually('awaiting filing', caseState, (s) => s.status === 'awaiting_filing');
    const filed = await submitFiling(deps, maker, created.id, {});
    await decideTask(deps, officer, filed.task_id, { decision: 'accept' });
    await eventually('ready', caseState, (s) => s.status === 'ready');
    const seal = await ctx.db('seals').where({ case_id: created.id }).first();
    started.push(archiveWorkflowId(seal.id));
    expect(await ctx.db('archive_retention').where({ seal_id: seal.id })).toHaveLength(0); // live: not yet

    await sleepUntil(addCalendarMonthsEndOfDay(new Date(seal.ready_at), 3), MINUTE);
    await eventually('cancelled', caseState, (s) => s.status === 'cancelled_unclaimed');
    const cancelled = await ctx.db('seals').where({ id: seal.id }).first('cancelled_at');
    const archive = await eventually('archive retention', () => ctx.db('archive_retention').where({ seal_id: seal.id }).first(), (r) => !!r);
    expect(archive).toMatchObject({ end_kind: 'cancelled', status: 'retained' });
    expect(ms(archive.ended_at)).toBe(ms(cancelled.cancelled_at));
    // Five years from the cancellation (or from a record made after it, never less).
    expect(ms(archive.retain_until)).toBeGreaterThanOrEqual(fiveYearsAfter(cancelled.cancelled_at).getTime());
    expect((await env.client.workflow.getHandle(archiveWorkflowId(seal.id)).query(archiveRetentionQuery)).status).toBe('retained');
  });
});
