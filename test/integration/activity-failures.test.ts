// Failures of activities on the real services: a refusal by a business rule fails once and closes its case
// with the reason (activities/failure-interceptor.ts); a fault that does not heal is retried and listed for
// administrators with its case and error (GET /api/admin/failing-activities and the admin page), and the
// case carries on once the fault is gone.
import { Client as PgClient } from 'pg';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId } from '../helpers/fixtures';
import { collectedSeal, waitForCase } from '../helpers/journeys';
import { eventually } from '../helpers/wait';
import { LONG_FAILING_ATTEMPTS } from '../../workflows/activity-policies';

let app: RunningApp;
let maker: { id: string; token: string };
let officer: { id: string; token: string };
let admin: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  admin = await createUser(app.db, 'admin');
});
afterAll(async () => {
  await app?.stop();
});

/** A live seal with two keepers (a password set), and a reset requested for the first; its case and task. */
async function resetRequested() {
  const { sealId, holderId } = await collectedSeal(app, maker, officer);
  const staff = await createUser(app.db, 'holder', { holder_id: holderId });
  const [k1, k2] = [makeResidentId('19800101'), makeResidentId('19810202')];
  for (const [name, id] of [['陈保管', k1], ['林保管', k2]] as const) {
    expect((await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/keepers`, { name, id_number: id })).status).toBe(201);
  }
  expect((await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/password`, { id_number: k1, password: 'Tiger#Lake2049x' })).status).toBe(201);
  const requested = await api(app.url, staff.token, 'POST', `/api/seals/${sealId}/password/reset-requests`, { id_number: k1, phone: '13500135000', reason: '保管人遗忘口令' });
  expect(requested.status).toBe(201);
  const caseId: string = requested.body.case_id;
  const task = await eventually(
    'the reset task',
    async () => (await api(app.url, officer.token, 'GET', '/api/tasks?kind=password_reset_approval')).body.find((t: { case_id: string }) => t.case_id === caseId),
    (t) => t !== undefined,
  );
  return { sealId, staff, keeper: k1, caseId, taskId: task.id as string };
}

test('C3: a reset whose keeper was removed before approval fails once, not retried, issues no link, and the case says why', async () => {
  const { sealId, staff, keeper, caseId, taskId } = await resetRequested();
  expect((await api(app.url, staff.token, 'DELETE', `/api/seals/${sealId}/keepers`, { id_number: keeper })).status).toBe(200);
  expect((await api(app.url, officer.token, 'POST', `/api/tasks/${taskId}/decision`, { decision: 'accept' })).status).toBe(200);

  const c = await waitForCase(app, staff.token, caseId, 'rejected');
  expect(JSON.stringify(c)).toContain('is no longer a keeper of this seal');
  expect(JSON.stringify(c)).toContain('已不是此印章的保管人');
  expect(await app.db('password_reset_grants').where({ case_id: caseId })).toHaveLength(0);
  expect(await app.db('password_reset_links').where({ case_id: caseId })).toHaveLength(0);
  expect(await app.db('outbox_messages').where({ message_key: `${caseId}:password_reset_link` })).toHaveLength(0);

  // Temporal's history: one attempt, failed as non-retryable with the domain error's code and messages.
  const history = await app.temporalClient.workflow.getHandle(`change:${caseId}`).fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'issuePasswordResetLink');
  expect(scheduled).toHaveLength(1);
  const scheduledId = Number(scheduled[0]!.eventId);
  const started = events.filter((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? 0) === scheduledId);
  expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
  const failed = events.find((e) => Number(e.activityTaskFailedEventAttributes?.scheduledEventId ?? 0) === scheduledId)!.activityTaskFailedEventAttributes!;
  expect(failed.failure?.applicationFailureInfo).toMatchObject({ type: 'KEEPER_REMOVED', nonRetryable: true });
  expect(failed.retryState).toBe(2); // RETRY_STATE_NON_RETRYABLE_FAILURE
  expect(events.some((e) => e.workflowExecutionCompletedEventAttributes)).toBe(true);
});

test('an activity that keeps failing is listed for administrators with its case and error, and the case moves on once the fault is gone', async () => {
  const { staff, caseId, taskId } = await resetRequested();
  // The fault: PostgreSQL refuses this case's timeline rows (a constraint added by the owner), so the
  // activities that write them fail on every attempt with a database error, which is retried.
  const constraint = `fault_${caseId.slice(0, 8)}`;
  const owner = new PgClient({ connectionString: process.env.DATABASE_OWNER_URL });
  await owner.connect();
  try {
    await owner.query(`alter table case_events add constraint ${constraint} check (case_id <> '${caseId}') not valid`);
    // The decision is taken, but the workflow cannot act on it while the fault lasts: 202 with the status link.
    const decided = await api(app.url, officer.token, 'POST', `/api/tasks/${taskId}/decision`, { decision: 'accept' }, { prefer: 'wait=1' });
    expect(decided.status).toBe(202);

    const listed = await eventually(
      'the failing activity to be listed',
      async () => (await api(app.url, admin.token, 'GET', '/api/admin/failing-activities')).body as Array<Record<string, any>>,
      (list) => list.some((a) => a.case_id === caseId),
      120_000,
    );
    const entry = listed.find((a) => a.case_id === caseId)!;
    expect(entry).toMatchObject({ workflow_id: `change:${caseId}`, workflow_type: 'passwordResetWorkflow', activity_type: 'issuePasswordResetLink' });
    expect(entry.attempt).toBeGreaterThanOrEqual(LONG_FAILING_ATTEMPTS);
    expect(entry.last_failure.message).toContain(constraint);
    expect(Date.parse(entry.next_attempt_at)).not.toBeNaN();

    // Only administrators; the page shows the same.
    expect((await api(app.url, officer.token, 'GET', '/api/admin/failing-activities')).status).toBe(403);
    const page = await fetch(`${app.url}/admin?lang=en`, { headers: { authorization: `Bearer ${admin.token}` } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Steps that keep failing');
    expect(html).toContain(`/cases/${caseId}`);
    expect(html).toContain(constraint);

    // The case is still waiting, not failed: the fault heals and it carries on by itself.
    expect((await app.db('cases').where({ id: caseId }).first('status')).status).not.toBe('completed');
    await owner.query(`alter table case_events drop constraint ${constraint}`);
    await waitForCase(app, staff.token, caseId, 'completed');
    const after = (await api(app.url, admin.token, 'GET', '/api/admin/failing-activities')).body as Array<{ case_id: string }>;
    expect(after.map((a) => a.case_id)).not.toContain(caseId);
    expect(await app.db('password_reset_grants').where({ case_id: caseId })).toHaveLength(1); // the approval's grant; its links are minted at hand-over
  } finally {
    await owner.query(`alter table case_events drop constraint if exists ${constraint}`);
    await owner.end();
  }
}, 180_000);
