// Temporal runs an activity again after a timeout or a worker crash, possibly while the first attempt is
// still running. The production activities write in single statements; run again, or twice at once, they
// must leave exactly what the first attempt wrote: one event, one seal code, one key, one certificate, one
// imprint, one binding, one certificate document.
import { createDbActivities, createHsmActivities } from '../../activities';
import { PdfRenderer } from '../../infra/documents/pdf-renderer';
import { loadPlatformSigningKey } from '../../infra/pki/platform';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId, makeUscc, recentRegistrationDate } from '../helpers/fixtures';
import { collectedSeal, waitForCase } from '../helpers/journeys';

let app: RunningApp;
let pdf: Promise<PdfRenderer> | undefined;
let db: ReturnType<typeof createDbActivities>;
let hsm: ReturnType<typeof createHsmActivities>;
let maker: { id: string; token: string };
let officer: { id: string; token: string };

beforeAll(async () => {
  app = await startApp();
  maker = await createUser(app.db, 'maker', { maker_id: await createMaker(app.db) });
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  db = createDbActivities({ db: app.db, pdf: () => (pdf ??= PdfRenderer.launch()) });
  hsm = createHsmActivities({ hsm: app.issuingHsm, personalDataHsm: app.hsm, db: app.db, platformKey: await loadPlatformSigningKey(app.db), policy: { validityYears: 3, pkiBaseUrl: 'http://127.0.0.1:1', policyOid: app.config.pki.sealCertificatePolicyOid } });
});
afterAll(async () => {
  if (pdf) await (await pdf).close();
  await app?.stop();
});

const sealState = (sealId: string) =>
  app.db('seals').where({ id: sealId }).first('seal_code', 'public_key_spki', 'certificate_serial', 'certificate_fingerprint', 'imprint_sha256', 'imprint_png', 'imprint_statement_id', 'status');

test('M2 M4 S3 M10: every production activity run again, and twice at once, after a collected seal changes nothing', async () => {
  const { caseId, sealId } = await collectedSeal(app, maker, officer);
  const seal = await sealState(sealId);
  const caseRow = await app.db('cases').where({ id: caseId }).first('status', 'updated_at');
  const events = await app.db('case_events').where({ case_id: caseId }).orderBy('id').select('event_key', 'type', 'at');
  const documents = await app.db('documents').where({ seal_id: sealId }).select('id', 'document_no');
  const deadlines = await app.db('filing_deadlines').where({ case_id: caseId }).select('*');
  const sequence = await app.db('seal_code_sequences').where({ district_code: '110105' }).first('last_value');
  const statements = await app.db('platform_statements').count<{ count: string }[]>('* as count');
  const signedCopies = await app.db('signed_documents').where({ document_id: documents[0]?.id ?? null }).select('document_id', 'pdf', 'signed_by');
  expect(seal.status).toBe('active');
  expect(signedCopies).toHaveLength(1); // signed by the workflow once
  expect(documents).toHaveLength(1);

  const first = events[0];
  const twice = <T>(f: () => Promise<T>) => Promise.all([f(), f()]);
  const again = {
    projection: await twice(() =>
      db.projectCase({ caseId, status: 'awaiting_production', reason: null, missingMaterials: ['x'], event: { key: first.event_key, type: first.type, data: {}, actorId: null, at: new Date().toISOString() } }),
    ),
    codes: await twice(() => db.assignSealCode({ sealId })),
    keys: await twice(() => hsm.generateSealKey({ sealId })),
    certificates: await twice(() => hsm.issueSealCertificate({ sealId })),
    imprints: await twice(() => db.renderImprint({ sealId })),
    bindings: await twice(() => hsm.bindImprint({ sealId })),
    documents: await twice(() => db.produceDocument({ sealId, kind: 'production_certificate', reason: null })),
    signatures: await twice(() => hsm.signSealDocument({ sealId, kind: 'production_certificate' })),
    deadlines: await twice(() => db.openFilingDeadline({ caseId, kind: 'production', startedAt: new Date().toISOString(), dueAt: new Date().toISOString() })),
  };

  expect(again.codes).toEqual([seal.seal_code, seal.seal_code]);
  expect(again.keys.map((k) => k.publicKeySpkiBase64)).toEqual([seal.public_key_spki.toString('base64'), seal.public_key_spki.toString('base64')]);
  expect(again.certificates).toEqual([{ serial: seal.certificate_serial, fingerprint: seal.certificate_fingerprint }, { serial: seal.certificate_serial, fingerprint: seal.certificate_fingerprint }]);
  expect(again.imprints).toEqual([{ imprintSha256: seal.imprint_sha256 }, { imprintSha256: seal.imprint_sha256 }]);
  expect(again.bindings).toEqual([{ statementId: seal.imprint_statement_id }, { statementId: seal.imprint_statement_id }]);
  expect(again.documents).toEqual([{ documentId: documents[0].id }, { documentId: documents[0].id }]);
  expect(again.signatures).toEqual([{ signedBy: 'already' }, { signedBy: 'already' }]);

  // What the user sees is unchanged: the case's status and timeline, the seal, its certificate document.
  expect(await app.db('cases').where({ id: caseId }).first('status', 'updated_at')).toEqual(caseRow);
  expect(await app.db('case_events').where({ case_id: caseId }).orderBy('id').select('event_key', 'type', 'at')).toEqual(events);
  expect(await sealState(sealId)).toEqual(seal);
  expect(await app.db('documents').where({ seal_id: sealId }).select('id', 'document_no')).toEqual(documents);
  expect(await app.db('signed_documents').where({ document_id: documents[0].id }).select('document_id', 'pdf', 'signed_by')).toEqual(signedCopies);
  expect(await app.db('filing_deadlines').where({ case_id: caseId }).select('*')).toEqual(deadlines);
  expect(await app.db('seal_code_sequences').where({ district_code: '110105' }).first('last_value')).toEqual(sequence);
  expect(await app.db('platform_statements').count<{ count: string }[]>('* as count')).toEqual(statements);
  const view = await api(app.url, maker.token, 'GET', `/api/applications/${caseId}`);
  expect(view.body.status).toBe('collected');
});

test('S3 M2: three attempts at once to number a new seal take one number of its district, and agree', async () => {
  const admin = await createUser(app.db, 'admin');
  const uscc = makeUscc('110105');
  const holder = await api(app.url, admin.token, 'POST', '/api/registration/holders', {
    uscc, name: `北京重试${uscc.slice(-5)}有限公司`, kind: 'enterprise', legal_representative: '吴十', address: '北京市朝阳区光华路2号', district: '110105', registration_date: recentRegistrationDate(),
  });
  expect(holder.status).toBe(201);
  const created = await api(app.url, maker.token, 'POST', '/api/applications', {
    holder: { uscc, name: holder.body.name, kind: 'enterprise', address: '北京市朝阳区光华路2号', district: '110105' },
    seal: { kind: 'legal_name', language: 'zh' },
    handler: { name: '郑十一', id_number: makeResidentId(), phone: '13700137000' },
  });
  expect(created.status).toBe(201);
  await waitForCase(app, maker.token, created.body.id, 'awaiting_production'); // no production yet: no code yet
  const sealId = created.body.seal.id as string;
  expect((await sealState(sealId)).seal_code).toBeNull();
  const before = Number((await app.db('seal_code_sequences').where({ district_code: '110105' }).first('last_value'))?.last_value ?? 0);

  const codes = await Promise.all([1, 2, 3].map(() => db.assignSealCode({ sealId })));

  const after = Number((await app.db('seal_code_sequences').where({ district_code: '110105' }).first('last_value')).last_value);
  expect(after).toBe(before + 1);
  expect(codes).toEqual(Array(3).fill(`110105${String(after).padStart(7, '0')}`));
  expect((await sealState(sealId)).seal_code).toBe(codes[0]);
});
