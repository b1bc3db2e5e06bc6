// U2: the platform's services by tier, through the JSON API on the real stack. A supervisor registers API
// clients (maker, enterprise) with their public keys; each gets access tokens with OAuth 2.0 client
// credentials and a JWT it signs (RFC 7523), scoped by its tier. The maker's client files a whole
// application (issue), the enterprise's client signs with its holder's seal — only with the keeper's ID
// number and password in the request — and verifies; replayed and expired assertions, suspended clients,
// out-of-scope routes and a client over its rate limit are refused; the audit trail names the client.
import { createHash, randomUUID } from 'node:crypto';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import { clientAccessToken, clientAssertion, newClient as newTestClient, tokenRequest as postTokenRequest, type TestClient } from '../helpers/oauth-client';
import { api, createUser, startApp, type RunningApp } from '../helpers/stack';
import { createMaker, makeResidentId } from '../helpers/fixtures';
import { collectedSeal } from '../helpers/journeys';
import { tokenEndpoint } from '../../usecases/api-clients';

let app: RunningApp;
let supervisor: { id: string; token: string };
let officer: { id: string; token: string };
let makerId: string;
const GOOD = 'Tiger#Lake2049x';

beforeAll(async () => {
  app = await startApp();
  supervisor = await createUser(app.db, 'supervisor');
  officer = await createUser(app.db, 'officer', { district_code: '110105' });
  makerId = await createMaker(app.db);
});
afterAll(async () => {
  await app?.stop();
});

type Client = TestClient;

async function register(body: Record<string, unknown>, token = supervisor.token) {
  return api(app.url, token, 'POST', '/api/clients', body);
}

const newClient = (body: Record<string, unknown>, alg: 'ES256' | 'EdDSA' = 'ES256', asPem = false) => newTestClient(app.url, supervisor.token, body, alg, asPem);
const assertion = (c: Client, claims: { exp?: number; jti?: string; aud?: string; sub?: string } = {}) => clientAssertion(c, tokenEndpoint(app.config), claims);
const tokenRequest = (jwt: string, extra: Record<string, string> = {}) => postTokenRequest(app.url, jwt, extra);
const accessToken = (c: Client, scope?: string) => clientAccessToken(app.url, tokenEndpoint(app.config), c, scope);

async function multipart(token: string, path: string, fields: Record<string, string>, files: Record<string, [Buffer, string]>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  for (const [k, [bytes, name]] of Object.entries(files)) form.set(k, new Blob([bytes]), name);
  const res = await fetch(app.url + path, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = (res.headers.get('content-type') ?? '').startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : null;
  return { status: res.status, headers: res.headers, bytes, body: json };
}

describe('U2: services by tier through API clients', () => {
  let makerClient: Client;
  let makerToken: string;
  let seal: Awaited<ReturnType<typeof collectedSeal>>;
  let keeperId: string;
  let enterprise: Client;

  beforeAll(async () => {
    makerClient = await newClient({ name: '示范制章系统', tier: 'maker', maker_id: makerId, rate_limit_per_minute: 100_000 });
  });

  it('U2: a maker\'s client gets a token scoped issue sign verify and files a whole application through the application API (issue)', async () => {
    const granted = await tokenRequest(await assertion(makerClient));
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'issue sign verify' });
    makerToken = granted.body.access_token;
    // Only the token's SHA-256 is stored.
    const rows = await app.db('oauth_access_tokens').where({ client_id: makerClient.id }).select('*');
    expect(rows.map((r) => r.token_sha256)).toContain(createHash('sha256').update(makerToken).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(makerToken);

    seal = await collectedSeal(app, { token: makerToken }, officer);
    const c = await app.db('cases').where({ id: seal.caseId }).first('created_by');
    const account = await app.db('api_clients').where({ id: makerClient.id }).first('user_id');
    expect(c.created_by).toBe(account.user_id);
    const submitted = await app.db('audit_entries').where({ action: 'case.submit', case_id: seal.caseId }).first('details', 'outcome');
    expect(submitted).toMatchObject({ outcome: 'ok', details: expect.objectContaining({ client_id: makerClient.id, client_tier: 'maker' }) });
  });

  it('U2: supervisors register clients (others are refused); tiers must fit the holder; a private key is refused naming public_key', async () => {
    const staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    expect((await register({ name: 'x', tier: 'enterprise', holder_uscc: seal.uscc, public_key: await exportSPKI(publicKey) }, staff.token)).status).toBe(403);
    const gov = await register({ name: '某局', tier: 'government', holder_uscc: seal.uscc, public_key: await exportSPKI(publicKey) });
    expect(gov.status).toBe(422);
    expect(gov.body.error).toMatchObject({ code: 'TIER_HOLDER_MISMATCH', fields: [expect.objectContaining({ field: 'tier' })] });
    const priv = await register({ name: '泄露', tier: 'enterprise', holder_uscc: seal.uscc, public_key: await exportPKCS8(privateKey) });
    expect(priv.status).toBe(400);
    expect(priv.body.error.fields).toEqual([expect.objectContaining({ field: 'public_key', message_zh: expect.stringContaining('私钥'), message_en: expect.stringContaining('private key') })]);
    expect(await app.db('api_clients').where({ name: '泄露' }).first()).toBeUndefined();

    enterprise = await newClient({ name: '示范科技OA', tier: 'enterprise', holder_uscc: seal.uscc }, 'EdDSA', true);
    const listed = await api(app.url, supervisor.token, 'GET', '/api/clients');
    expect(listed.body.clients.find((c: any) => c.client_id === enterprise.id)).toMatchObject({ tier: 'enterprise', scopes: ['sign', 'verify'], key_alg: 'EdDSA', holder_id: seal.holderId, status: 'active' });
  });

  it('U2: a replayed assertion, an expired one, one for another audience and a scope outside the tier are refused, each audited naming the client', async () => {
    const jwt = await assertion(enterprise);
    expect((await tokenRequest(jwt)).status).toBe(200);
    const replay = await tokenRequest(jwt);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatchObject({ code: 'invalid_client', details: { reason: 'replayed' }, fields: [expect.objectContaining({ field: 'client_assertion' })] });
    expect(replay.body.error.message_zh).toMatch(/已用过/);

    const expired = await tokenRequest(await assertion(enterprise, { exp: Math.floor(Date.now() / 1000) - 120 }));
    expect(expired).toMatchObject({ status: 401, body: { error: { code: 'invalid_client', details: { reason: 'expired' } } } });
    const tooLong = await tokenRequest(await assertion(enterprise, { exp: Math.floor(Date.now() / 1000) + 3600 }));
    expect(tooLong).toMatchObject({ status: 401, body: { error: { details: { reason: 'claims' } } } });
    const otherAud = await tokenRequest(await assertion(enterprise, { aud: 'https://elsewhere.example/token' }));
    expect(otherAud).toMatchObject({ status: 401, body: { error: { details: { reason: 'claims' } } } });
    const forged = await tokenRequest(await assertion({ id: enterprise.id, privateKey: makerClient.privateKey }));
    expect(forged.status).toBe(401);
    const scope = await tokenRequest(await assertion(enterprise), { scope: 'sign issue' });
    expect(scope.status).toBe(400);
    expect(scope.body.error).toMatchObject({ code: 'invalid_scope', fields: [expect.objectContaining({ field: 'scope' })] });

    const refused = await app.db('audit_entries').where({ action: 'client.token', outcome: 'refused', target_id: enterprise.id }).select('details');
    expect(refused.map((r) => r.details.reason).sort()).toEqual(expect.arrayContaining(['claims', 'expired', 'replayed', 'signature']));
    expect(refused.every((r) => r.details.client_id === enterprise.id)).toBe(true);
  });

  it('U2 C2: the enterprise client signs with its holder\'s seal only with the keeper\'s ID number and password; it reaches nothing outside sign and verify', async () => {
    const staff = await createUser(app.db, 'holder', { holder_id: seal.holderId });
    keeperId = makeResidentId('19880101');
    expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/keepers`, { name: '孙保管', id_number: keeperId })).status).toBe(201);
    expect((await api(app.url, staff.token, 'POST', `/api/seals/${seal.sealId}/password`, { id_number: keeperId, password: GOOD })).status).toBe(201);
    const token = await accessToken(enterprise);
    const doc = Buffer.from('采购合同（接口客户端）');
    const fields = { id_number: keeperId, purpose: '签订采购合同', document_type: 'agreement', format: 'cms' };

    const noPassword = await multipart(token, `/api/seals/${seal.sealId}/signatures`, fields, { file: [doc, '合同.txt'] });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.error.fields.map((f: any) => f.field)).toEqual(['password']);
    const wrong = await multipart(token, `/api/seals/${seal.sealId}/signatures`, { ...fields, password: 'Wrong#Pass2049' }, { file: [doc, '合同.txt'] });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error).toMatchObject({ code: 'WRONG_PASSWORD', fields: [expect.objectContaining({ field: 'password' })] });

    const signed = await multipart(token, `/api/seals/${seal.sealId}/signatures`, { ...fields, password: GOOD }, { file: [doc, '合同.txt'] });
    expect(signed.status).toBe(201);
    const account = await app.db('api_clients').where({ id: enterprise.id }).first('user_id');
    const entry = await app.db('seal_use_register').where({ id: signed.headers.get('x-seal-use-id') }).first('requested_by', 'document_sha256');
    expect(entry).toEqual({ requested_by: account.user_id, document_sha256: createHash('sha256').update(doc).digest('hex') });
    const signAudit = await app.db('audit_entries').where({ action: 'seal.sign', target_id: seal.sealId }).orderBy('seq').select('outcome', 'details');
    expect(signAudit.map((a) => [a.outcome, a.details.client_id, a.details.status])).toEqual([
      ['refused', enterprise.id, 400],
      ['refused', enterprise.id, 403],
      ['ok', enterprise.id, 201],
    ]);

    const verified = await multipart(token, '/api/verifications', {}, { file: [doc, '合同.txt'], signature: [signed.bytes, '合同.txt.p7s'] });
    expect(verified.status).toBe(200);
    expect(verified.body.signatures[0].indication).toBe('TOTAL-PASSED');
    expect(await app.db('audit_entries').where({ action: 'document.verify' }).whereRaw("details->>'client_id' = ?", [enterprise.id]).first('outcome')).toEqual({ outcome: 'ok' });

    // A seal of another holder, the holder's staff routes, the application API, the pages: refused.
    const other = await multipart(token, `/api/seals/${randomUUID()}/signatures`, { ...fields, password: GOOD }, { file: [doc, 'x.txt'] });
    expect(other.status).toBe(404);
    for (const [method, path] of [['GET', '/api/use-register'], ['GET', `/api/seals/${seal.sealId}/keepers`], ['GET', '/api/applications'], ['GET', `/api/seals/${seal.sealId}`]] as const) {
      const res = await api(app.url, token, method, path);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 403, code: 'insufficient_scope' });
    }
    const page = await fetch(`${app.url}/seals`, { headers: { authorization: `Bearer ${token}`, accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(403);
    // A verify-only token cannot sign.
    const verifyOnly = await accessToken(enterprise, 'verify');
    const noScope = await multipart(verifyOnly, `/api/seals/${seal.sealId}/signatures`, { ...fields, password: GOOD }, { file: [doc, '合同.txt'] });
    expect(noScope).toMatchObject({ status: 403, body: { error: { code: 'insufficient_scope' } } });
  });

  it('U2: each client has its own rate limit (429 with Retry-After), and a suspended client is refused at once and gets no new token', async () => {
    const slow = await newClient({ name: '限流客户端', tier: 'enterprise', holder_uscc: seal.uscc, rate_limit_per_minute: 2 });
    const token = await accessToken(slow);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await multipart(token, '/api/verifications', {}, {});
      statuses.push(res.status);
      retryAfter = res.headers.get('retry-after');
      if (res.status === 429) expect(res.body.error).toMatchObject({ code: 'rate_limited', message_zh: expect.stringContaining('请求过于频繁') });
    }
    expect(statuses).toEqual([400, 400, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // Other clients are not held back by it.
    expect((await api(app.url, makerToken, 'GET', '/api/applications')).status).toBe(200);

    const enterpriseToken = await accessToken(enterprise);
    expect((await api(app.url, supervisor.token, 'POST', `/api/clients/${enterprise.id}/suspend`)).status).toBe(200);
    const after = await multipart(enterpriseToken, '/api/verifications', {}, {});
    expect(after).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
    const again = await tokenRequest(await assertion(enterprise));
    expect(again).toMatchObject({ status: 401, body: { error: { code: 'invalid_client', details: { reason: 'suspended' } } } });
    expect((await api(app.url, supervisor.token, 'POST', `/api/clients/${enterprise.id}/resume`)).status).toBe(200);
    expect((await tokenRequest(await assertion(enterprise))).status).toBe(200);
    const changes = await app.db('audit_entries').where({ target_id: enterprise.id }).whereIn('action', ['client.suspend', 'client.resume']).orderBy('seq').select('action', 'actor_user_id');
    expect(changes).toEqual([
      { action: 'client.suspend', actor_user_id: supervisor.id },
      { action: 'client.resume', actor_user_id: supervisor.id },
    ]);
  });
});
