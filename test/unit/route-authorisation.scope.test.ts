// P3 M6: past the role guard, scope. Every route about one case, seal, material or task is called by a
// user of each role inside and outside the case's scope (its maker / another maker, an officer of its
// district / of another district, its holder / another holder, the city roles) on the real app; a user
// outside the scope is refused (403). Needs the services (scripts/with-stack.ts); skipped without them.
import { randomUUID } from 'node:crypto';
import { collectedSeal } from '../helpers/journeys';
import { createMaker, makeUscc, PDF_BYTES } from '../helpers/fixtures';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { PRODUCTION_DATA } from '../helpers/production-data';

const live = !!process.env.DATABASE_URL;
type Who = 'makerIn' | 'makerOut' | 'officerIn' | 'officerOut' | 'holderIn' | 'holderOut' | 'supervisor' | 'admin';
const EVERYONE: Who[] = ['makerIn', 'makerOut', 'officerIn', 'officerOut', 'holderIn', 'holderOut', 'supervisor', 'admin'];
// P1: the administrator (IT) manages accounts, makers and configuration and reads no case, ID copy or seal.
const CASE_SCOPE: Who[] = ['makerIn', 'officerIn', 'holderIn', 'supervisor'];

(live ? describe : describe.skip)('P3: routes about one case, seal, material or task, in and out of scope', () => {
  let app: RunningApp;
  const tokens = {} as Record<Who, string>;
  const ids = { caseId: '', sealId: '', materialId: '', taskId: '' };

  beforeAll(async () => {
    app = await startApp({ taskQueueSuffix: '-scope' });
    const makerIn = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
    const officerIn = await createUser(app.db, 'officer', { district_code: '110105' });
    const seal = await collectedSeal(app, makerIn, officerIn, { district: '110105' });
    const otherHolder = randomUUID();
    await app.db('holders').insert({ id: otherHolder, uscc: makeUscc('110105'), name: '北京范围外有限公司', kind: 'enterprise', district_code: '110105', address: '北京市朝阳区1号' });
    Object.assign(tokens, {
      makerIn: makerIn.token,
      makerOut: (await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) })).token,
      officerIn: officerIn.token,
      officerOut: (await createUser(app.db, 'officer', { district_code: '110108' })).token,
      holderIn: (await createUser(app.db, 'holder', { holder_id: seal.holderId })).token,
      holderOut: (await createUser(app.db, 'holder', { holder_id: otherHolder })).token,
      supervisor: (await createUser(app.db, 'supervisor')).token,
      admin: (await createUser(app.db, 'admin')).token,
    });
    ids.caseId = seal.caseId;
    ids.sealId = seal.sealId;
    ids.materialId = (await app.db('materials').where({ case_id: seal.caseId }).first('id')).id;
    // An open task of the case's district (the queue's read model; no decision goes through it here).
    ids.taskId = randomUUID();
    await app.db('tasks').insert({ id: ids.taskId, kind: 'filing_review', case_id: seal.caseId, district_code: '110105', status: 'open' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const reads: Array<[string, Who[]]> = [
    ['/api/applications/{case}', CASE_SCOPE],
    ['/api/applications/{case}/status', CASE_SCOPE],
    ['/api/materials/{material}', CASE_SCOPE],
    ['/api/seals/{seal}', CASE_SCOPE],
    ['/api/applications/{case}/production-records', CASE_SCOPE],
    ['/api/seals/{seal}/documents/production_certificate.pdf', CASE_SCOPE],
    ['/api/seals/{seal}/keepers', ['makerIn', 'officerIn', 'holderIn', 'supervisor']],
    ['/cases/{case}', CASE_SCOPE],
    ['/seals/{seal}', CASE_SCOPE],
    ['/seals/{seal}/imprint.png', CASE_SCOPE],
    ['/tasks/{task}', ['officerIn', 'supervisor']],
  ];

  it('P3 M6 P1: each read answers inside the scope and is refused (403) outside it, for every role (the administrator is outside every case)', async () => {
    const wrong: string[] = [];
    for (const [template, allowed] of reads) {
      const p = template.replace('{case}', ids.caseId).replace('{seal}', ids.sealId).replace('{material}', ids.materialId).replace('{task}', ids.taskId);
      for (const who of EVERYONE) {
        const res = await fetch(app.url + p, { redirect: 'manual', headers: { authorization: `Bearer ${tokens[who]}` } });
        await res.arrayBuffer();
        const expected = allowed.includes(who) ? 200 : 403;
        if (res.status !== expected) wrong.push(`${template} as ${who}: ${res.status}, expected ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('P3: changes out of scope are refused before anything happens', async () => {
    const letter = () => {
      const form = new FormData();
      form.set('kind', 'suspend');
      form.set('file', new Blob([PDF_BYTES]), 'letter.pdf');
      return form;
    };
    const attempts: Array<[Who, string, string, unknown]> = [
      ['officerOut', 'POST', `/api/tasks/${ids.taskId}/decision`, { decision: 'accept' }],
      ['makerOut', 'POST', `/api/applications/${ids.caseId}/filing`, {}],
      ['makerOut', 'POST', `/api/applications/${ids.caseId}/collection`, { collector_name: '某人', collector_id_number: '110105198506120011' }],
      ['makerOut', 'POST', `/api/applications/${ids.caseId}/production-records`, { production_data: PRODUCTION_DATA, reason: '更正' }],
      ['officerOut', 'POST', `/api/applications/${ids.caseId}/production-records/2/decision`, { decision: 'approve' }],
      ['holderOut', 'POST', `/api/seals/${ids.sealId}/keepers`, { name: '某人', id_number: '110105198506120011' }],
      ['holderOut', 'POST', `/api/seals/${ids.sealId}/password/reset-requests`, { id_number: '110105198506120011', phone: '13800138000', reason: '忘记' }],
      ['holderOut', 'POST', `/api/seals/${ids.sealId}/compromise-reports`, { report: 'lost', handler_name: '某人', handler_id_number: '110105198506120011', handler_phone: '13800138000' }],
      ['officerOut', 'POST', `/api/seals/${ids.sealId}/compromise-reports`, { report: 'lost', handler_name: '某人', handler_id_number: '110105198506120011', handler_phone: '13800138000' }],
    ];
    const wrong: string[] = [];
    for (const [who, method, p, body] of attempts) {
      const res = await api(app.url, tokens[who], method, p, body);
      if (res.status !== 403) wrong.push(`${method} ${p} as ${who}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    }
    const change = await fetch(`${app.url}/api/seals/${ids.sealId}/changes`, { method: 'POST', headers: { authorization: `Bearer ${tokens.makerOut}` }, body: letter() });
    if (change.status !== 403) wrong.push(`POST /api/seals/{seal}/changes as makerOut: ${change.status}`);
    expect(wrong).toEqual([]);
    expect(await app.db('cases').where({ subject_seal_id: ids.sealId }).count('* as n').first()).toMatchObject({ n: '0' });
  });
});
