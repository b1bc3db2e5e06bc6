// Issue 10.5 on the real services: a lifecycle request's workflow is started before anything irreversible, and
// drives the seal's change, the replacement and the filing. Here the workers are down when the maker asks for a
// replacement, and the web server that took the request is gone before they come back: the workflow carries
// everything out on its own, so the seal is never cancelled without its filing and its replacement (M11 M13).
import { randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { createUser, testConfig, workflowBundlePath } from '../helpers/stack';
import { createMaker, makeResidentId, PDF_BYTES } from '../helpers/fixtures';
import { collectedSeal, filedSeal, waitForCase } from '../helpers/journeys';
import { connectWorkerContext, type WorkerContext } from '../../workers/connect';
import { createHsmWorker, openHsm } from '../../workers/hsm-worker';
import { createMainWorker } from '../../workers/main-worker';
import { startWebServer } from '../../web/server';
import type { WorkerTokens } from '../../infra/hsm/tokens';
import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../../infra/temporal';
import { personalData } from '../../infra/crypto/personal-data';
import { applyChangeUpdate } from '../../workflows/seal-messages';

// Own task queues: no other test's workers may pick up this test's workflows while its own are down.
const config = testConfig({ ESEAL_TEMPORAL_TASK_QUEUES_MAIN: 'eseal-main-wf-first', ESEAL_TEMPORAL_TASK_QUEUES_HSM: 'eseal-hsm-wf-first' });
let ctx: WorkerContext;
let tokens: WorkerTokens;
let client: Client;
let workers: { stop(): Promise<void> } | null = null;
const webs: Array<{ close(): Promise<void> }> = [];

async function startWorkers() {
  const ws: Worker[] = [await createMainWorker(ctx, { workflowBundlePath: workflowBundlePath() }), await createHsmWorker(ctx, tokens)];
  const runs = ws.map((w) => w.run());
  workers = {
    async stop() {
      for (const w of ws) w.shutdown();
      await Promise.all(runs);
    },
  };
}
async function startWeb() {
  const web = await startWebServer(config, 0);
  webs.push(web);
  return web;
}

beforeAll(async () => {
  ctx = await connectWorkerContext(config);
  tokens = await openHsm(ctx);
  client = new Client({ connection: await Connection.connect(temporalConnectionOptions(config)), namespace: config.temporal.namespace });
  await startWorkers();
});
afterAll(async () => {
  for (const w of webs) await w.close().catch(() => undefined);
  await workers?.stop();
  await client?.connection.close();
  await tokens?.close();
  await ctx?.close();
});

test('M11 M13: a replacement and a loss report taken while the workers are down, their web server gone before they return: the seal replaced is cancelled, filed and its replacement started; the seal lost has its key destroyed, is revoked (keyCompromise) and filed; retries with the same keys find the same requests', async () => {
  const web = await startWeb();
  const app = { url: web.url, db: ctx.db } as Parameters<typeof collectedSeal>[0];
  const maker = await createUser(ctx.db, 'maker', { maker_id: await createMaker(ctx.db) });
  const officer = await createUser(ctx.db, 'officer', { district_code: '110105' });
  const { sealId } = await collectedSeal(app, maker, officer, { sealKind: 'business_finance' });
  const lost = await collectedSeal(app, maker, officer);
  const holder = await createUser(ctx.db, 'holder', { holder_id: lost.holderId });

  await workers!.stop();
  workers = null;
  const form = () => {
    const f = new FormData();
    for (const [k, v] of Object.entries({ kind: 'replace', replacement_reason: 'damaged', legal_rep_id_number: makeResidentId(), handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000' })) f.set(k, v);
    f.set('authorisation_letter', new Blob([PDF_BYTES]), 'letter.pdf');
    return f;
  };
  const key = `replace-${sealId}`;
  const replace = (url: string) => fetch(`${url}/api/seals/${sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}`, 'idempotency-key': key }, body: form() });
  const report = { report: 'lost', handler_name: '周十三', handler_id_number: makeResidentId(), handler_phone: '13700137000' };
  const reportLost = (url: string) =>
    fetch(`${url}/api/seals/${lost.sealId}/compromise-reports`, { method: 'POST', headers: { authorization: `Bearer ${holder.token}`, 'content-type': 'application/json', 'idempotency-key': `lost-${lost.sealId}` }, body: JSON.stringify(report) });
  const [res, lostRes] = await Promise.all([replace(web.url), reportLost(web.url)]);
  const accepted = (await res.json()) as { case_id: string; status: string; seal_status: string };
  expect(res.status).toBe(202); // stored, its workflow waiting for a worker
  expect(accepted).toMatchObject({ status: 'processing', seal_status: 'active' });
  const lostAccepted = (await lostRes.json()) as { case_id: string; status: string; seal_status: string };
  expect(lostRes.status).toBe(202);
  expect(lostAccepted).toMatchObject({ status: 'processing', seal_status: 'active' });
  const caseId = accepted.case_id;
  // Nothing irreversible has happened yet, and the workflows that will do it exist.
  expect((await ctx.db('seals').where({ id: sealId }).first('status')).status).toBe('active');
  expect((await ctx.db('seal_keys').where({ seal_id: lost.sealId }).first('wrapped_private_key')).wrapped_private_key).not.toBeNull();
  expect((await client.workflow.getHandle(`change:${caseId}`).describe()).status.name).toBe('RUNNING');
  expect((await client.workflow.getHandle(`change:${lostAccepted.case_id}`).describe()).status.name).toBe('RUNNING');

  // The web server that took the requests goes away; workers come back.
  await webs.pop()!.close();
  await startWorkers();

  const web2 = await startWeb();
  const app2 = { ...app, url: web2.url };
  await waitForCase(app2, maker.token, caseId, 'awaiting_filing', 60_000);
  const seal = await ctx.db('seals').where({ id: sealId }).first('status', 'revocation_reason');
  expect(seal.status).toBe('cancelled');
  // The cancellation is filed (24-hour deadline, M13) and the replacement exists with its workflow (M11).
  expect(await ctx.db('filing_deadlines').where({ case_id: caseId, kind: 'replace' }).first('case_id')).toBeTruthy();
  const replacement = await ctx.db('seals').where({ replaces_seal_id: sealId }).first('id', 'case_id', 'number', 'kind');
  expect(replacement).toMatchObject({ kind: 'business_finance', number: 1 });
  expect((await client.workflow.getHandle(`application:${replacement.case_id}`).describe()).status.name).toBe('RUNNING');
  await waitForCase(app2, maker.token, replacement.case_id, 'awaiting_production', 60_000);
  // The seal reported lost: key destroyed, revoked as compromised, the report filed (M13).
  await waitForCase(app2, maker.token, lostAccepted.case_id, 'awaiting_filing', 60_000);
  expect(await ctx.db('seals').where({ id: lost.sealId }).first('status', 'revocation_reason')).toEqual({ status: 'stopped', revocation_reason: 'keyCompromise' });
  expect((await ctx.db('seal_keys').where({ seal_id: lost.sealId }).first('wrapped_private_key')).wrapped_private_key).toBeNull();
  expect(await ctx.db('filing_deadlines').where({ case_id: lostAccepted.case_id, kind: 'compromise' }).first('case_id')).toBeTruthy();

  // The retries (the first answers said "processing") find the same requests, now done: one request each.
  const retry = await replace(web2.url);
  expect(retry.status).toBe(201);
  expect(await retry.json()).toMatchObject({ case_id: caseId, status: 'processed', seal_status: 'cancelled', replacement_case_id: replacement.case_id });
  expect(await ctx.db('cases').where({ subject_seal_id: sealId, kind: 'replace' }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
  expect(await ctx.db('seals').where({ replaces_seal_id: sealId }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
  const lostRetry = await reportLost(web2.url);
  expect(lostRetry.status).toBe(201);
  expect(await lostRetry.json()).toMatchObject({ case_id: lostAccepted.case_id, status: 'processed', seal_status: 'stopped' });
  expect(await ctx.db('cases').where({ subject_seal_id: lost.sealId, kind: 'compromise' }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
});

test('A4 M3: a decision sent while no worker serves the case is answered 503 with Retry-After in seconds, not held open; the same decision once workers are back is answered and taken once', async () => {
  const web = await startWeb();
  const app = { url: web.url, db: ctx.db };
  const maker = await createUser(ctx.db, 'maker', { maker_id: await createMaker(ctx.db) });
  const officer = await createUser(ctx.db, 'officer', { district_code: '110105' });
  const { caseId, taskId } = await filedSeal(app, maker);

  await workers!.stop();
  workers = null;
  const decide = () =>
    fetch(`${web.url}/api/tasks/${taskId}/decision`, { method: 'POST', headers: { authorization: `Bearer ${officer.token}`, 'content-type': 'application/json', prefer: 'wait=1' }, body: JSON.stringify({ decision: 'accept' }) });
  const first = await decide(); // answered within the request's time (5 s at least), not once a worker returns
  expect(first.status).toBe(503);
  expect(Number(first.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(((await first.json()) as { error: unknown }).error).toMatchObject({ code: 'DECISION_NOT_TAKEN', message_zh: expect.stringContaining('重试'), message_en: expect.stringContaining('send the same decision again') });

  await startWorkers();
  const again = await decide();
  expect(again.status).toBe(200);
  await waitForCase(app, maker.token, caseId, 'ready');
  expect(await ctx.db('case_events').where({ case_id: caseId, type: 'filing_accepted' }).count<{ count: string }[]>('* as count')).toEqual([{ count: '1' }]);
});

test('M12 M13: a stop that an earlier version applied before starting its workflow (then crashed) is found at start-up and filed, not applied again or refused', async () => {
  const web = await startWeb();
  const app = { url: web.url, db: ctx.db } as Parameters<typeof collectedSeal>[0];
  const maker = await createUser(ctx.db, 'maker', { maker_id: await createMaker(ctx.db) });
  const officer = await createUser(ctx.db, 'officer', { district_code: '110105' });
  const { sealId } = await collectedSeal(app, maker, officer);
  const seal = await ctx.db('seals as s').join('cases as c', 'c.id', 's.case_id').where('s.id', sealId).first('c.maker_id', 'c.holder_id', 'c.district_code');

  // What the earlier version did before it died: the request's row, then the seal's Update; no workflow for the request.
  const caseId = randomUUID();
  const pd = personalData({ db: ctx.db, hsm: tokens.web });
  const handlerId = await pd.protectId(makeResidentId(), { table: 'cases', column: 'handler_id_number', row: caseId });
  await ctx.db('cases').insert({
    id: caseId, kind: 'stop', subject_seal_id: sealId, maker_id: seal.maker_id, holder_id: seal.holder_id, district_code: seal.district_code, status: 'processing', language: 'zh',
    handler_name: '冯十二', handler_id_number: handlerId.enc, handler_id_number_hmac: handlerId.hmac, handler_phone: await pd.encrypt('13600136000', { table: 'cases', column: 'handler_phone', row: caseId }),
    created_by: maker.id, created_at: new Date(Date.now() - 5 * 60_000),
  });
  await client.workflow.getHandle(`seal:${sealId}`).executeUpdate(applyChangeUpdate, { args: [{ changeCaseId: caseId, kind: 'stop', reason: null }] });
  expect((await ctx.db('seals').where({ id: sealId }).first('status')).status).toBe('stopped');
  await expect(client.workflow.getHandle(`change:${caseId}`).describe()).rejects.toThrow(/not found/i);

  await webs.pop()!.close();
  const web2 = await startWeb(); // its start-up repairs
  await waitForCase({ ...app, url: web2.url }, maker.token, caseId, 'awaiting_filing', 60_000);
  expect(await ctx.db('filing_deadlines').where({ case_id: caseId, kind: 'stop' }).first('case_id')).toBeTruthy();
  expect((await ctx.db('seals').where({ id: sealId }).first('status')).status).toBe('stopped');
  const events = await ctx.db('case_events').where({ case_id: caseId }).pluck('type');
  expect(events).not.toContain('refused');
});
