// Whole journeys through the JSON API, for tests that need a seal at a given point of its life.
import { api, createUser, type RunningApp } from './stack';
import { makeResidentId, makeUscc, PDF_BYTES, PNG_BYTES, upload, recentRegistrationDate } from './fixtures';
import { PRODUCTION_DATA } from './production-data';

export async function waitForCase(app: Pick<RunningApp, 'url'>, token: string, caseId: string, status: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api(app.url, token, 'GET', `/api/applications/${caseId}`);
    if (res.body.status === status) return res.body;
    if (Date.now() > deadline) throw new Error(`case ${caseId} is ${res.body.status}, expected ${status} (${res.body.status_reason})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A seal of a pre-registered (A3) holder in `district`, produced by `maker`, its filing with the district's police (the review task open). */
export async function filedSeal(
  app: Pick<RunningApp, 'url' | 'db'>,
  maker: { token: string },
  opts: { district?: string; sealKind?: string; handlerId?: string } = {},
) {
  const district = opts.district ?? '110105';
  const admin = await createUser(app.db, 'admin');
  const uscc = makeUscc(district);
  const holder = await api(app.url, admin.token, 'POST', '/api/registration/holders', {
    uscc, name: `北京生命周期${uscc.slice(-5)}有限公司`, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路1号', district, registration_date: recentRegistrationDate(),
  });
  const handlerId = opts.handlerId ?? makeResidentId();
  // Each seal's own phone: tests that look for a phone in a dump must not find another test's.
  const handlerPhone = `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: holder.body.name, kind: 'enterprise', address: '北京市朝阳区光华路1号', district },
    seal: { kind: opts.sealKind ?? 'business_contract', language: 'zh' },
    handler: { name: '郑十一', id_number: handlerId, phone: handlerPhone },
  });
  if (created.status !== 201) throw new Error(`application refused: ${JSON.stringify(created.body)}`);
  const caseId = created.body.id;
  await waitForCase(app, maker.token, caseId, 'awaiting_production');
  const image = await upload(app.url, maker.token, caseId, 'on_site_image', PNG_BYTES, 'onsite.png');
  await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/production`, { production_data: PRODUCTION_DATA, on_site_image_id: image.body.id });
  await waitForCase(app, maker.token, caseId, 'awaiting_filing');
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/filing`, {});
  if (!filed.body.task_id) throw new Error(`filing refused: ${JSON.stringify(filed.body)}`);
  return { caseId, uscc, handlerId, handlerPhone, taskId: filed.body.task_id as string };
}

/** A seal of a pre-registered (A3) holder in `district`, produced by `maker` and ready to collect (filing accepted). */
export async function readySeal(
  app: RunningApp,
  maker: { token: string },
  officer: { token: string },
  opts: { district?: string; sealKind?: string; handlerId?: string } = {},
) {
  const { caseId, uscc, handlerId, handlerPhone, taskId } = await filedSeal(app, maker, opts);
  await api(app.url, officer.token, 'POST', `/api/tasks/${taskId}/decision`, { decision: 'accept' });
  await waitForCase(app, maker.token, caseId, 'ready');
  return { caseId, uscc, handlerId, handlerPhone };
}

/** A collected (live) seal of a pre-registered (A3) holder in `district`, produced by `maker`. */
export async function collectedSeal(
  app: RunningApp,
  maker: { token: string },
  officer: { token: string },
  opts: { district?: string; sealKind?: string } = {},
) {
  const { caseId, uscc, handlerId, handlerPhone } = await readySeal(app, maker, officer, opts);
  const collected = await api(app.url, maker.token, 'POST', `/api/applications/${caseId}/collection`, { collector_name: '郑十一', collector_id_number: handlerId });
  if (collected.body.status !== 'collected') throw new Error(`not collected: ${JSON.stringify(collected.body)}`);
  return { caseId, sealId: collected.body.seal.id as string, holderId: collected.body.holder.id as string, uscc, handlerId, handlerPhone, view: collected.body };
}

/**
 * A seal's change (suspend, resume, cancel …) through a change request: the maker files it, the officer accepts
 * the filing; answers the seal's status the request reported.
 */
export async function changeSealThroughRequest(app: Pick<RunningApp, 'url'>, maker: { token: string }, officer: { token: string }, sealId: string, kind: string): Promise<string> {
  const form = new FormData();
  const f: Record<string, string> = { kind, legal_rep_id_number: makeResidentId(), handler_name: '冯十二', handler_id_number: makeResidentId(), handler_phone: '13600136000', reason: '暂停使用' };
  for (const [k, v] of Object.entries(f)) form.set(k, v);
  form.set('authorisation_letter', new Blob([PDF_BYTES]), 'letter.pdf');
  const res = await fetch(`${app.url}/api/seals/${sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${maker.token}` }, body: form });
  const body = (await res.json()) as { case_id: string; seal_status: string };
  expect(res.status).toBe(201);
  await waitForCase(app, maker.token, body.case_id, 'awaiting_filing');
  const filed = await api(app.url, maker.token, 'POST', `/api/applications/${body.case_id}/filing`, {});
  expect((await api(app.url, officer.token, 'POST', `/api/tasks/${filed.body.task_id}/decision`, { decision: 'accept' })).status).toBe(200);
  await waitForCase(app, maker.token, body.case_id, 'completed');
  return body.seal_status;
}
