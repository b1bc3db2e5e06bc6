// P1 P3: every route of the app — JSON API and browser pages — against every role, from an explicit table.
// The table says which roles pass each route's role guard and which scope its use-case then applies; the
// test reads each route's guard from express's router (requireRole / page carry their roles) and also
// calls every guarded route without credentials. A new route that is not in the table fails the build.
import type { AddressInfo } from 'node:net';
import type { Deps } from '../../usecases/deps';
import { createApp } from '../../web/app';
import type { Role } from '../../web/auth';
import { CLIENT_ROUTE_SCOPES } from '../../web/client-scopes';
import { TIER_SCOPES, type ClientScope } from '../../domain/api-clients';

const ROLES: Role[] = ['officer', 'supervisor', 'maker', 'holder', 'admin', 'exchange'];

/**
 * Scope the use-case applies after the role guard (P3, M6):
 *  - district: officers only in their district; supervisors the city
 *  - own:      makers only their cases/seals, holders only theirs, officers their district, city roles all
 *  - maker:    only the maker of the case or seal
 *  - holder:   only the holder of the seal
 *  - self:     the user's own account
 *  - city:     city-level data, no narrower scope
 *  - platform: a data-exchange account only for its own listed platform (I2)
 *  - public:   no login (status services, PKI for relying parties, the login form, one-time reset links)
 */
type Scope = 'district' | 'own' | 'maker' | 'holder' | 'self' | 'city' | 'platform' | 'public';
type Rule = { roles: Role[] | 'public'; scope: Scope };

const pub: Rule = { roles: 'public', scope: 'public' };
const r = (scope: Scope, ...roles: Role[]): Rule => ({ roles, scope });
const EVERYONE: Role[] = ['officer', 'supervisor', 'maker', 'holder', 'admin'];
/** P1: every role but the administrator (IT), who manages accounts, makers and configuration and sees no personal data. */
const CASE_READERS: Role[] = ['officer', 'supervisor', 'maker', 'holder'];

const TABLE: Record<string, Rule> = {
  // health, API description, PKI status (relying parties verify without an account)
  'GET /healthz': pub,
  'GET /readyz': pub,
  'GET /api/openapi.yaml': pub,
  'GET /pki/crl.der': pub,
  'GET /pki/root-ca.pem': pub,
  'GET /pki/issuing-ca.pem': pub,
  'GET /pki/issuing-ca.crt': pub,
  'POST /pki/ocsp': pub,
  'GET /pki/ocsp/:request': pub,
  'GET /pki/sm2/root-ca.pem': pub,
  'GET /pki/sm2/issuing-ca.pem': pub,
  'GET /pki/sm2/issuing-ca.crt': pub,
  'GET /pki/sm2/crl.der': pub,
  'POST /pki/sm2/ocsp': pub,
  'GET /pki/seals/:id/certificate.pem': pub,
  'GET /pki/seals/:id/certificate.der': pub,
  'GET /pki/seals/:id/chain.pem': pub,

  // JSON API
  'POST /api/platform/statements': r('city', 'supervisor', 'admin'),
  'GET /api/platform/statements/:id': r('city', 'supervisor', 'admin'),
  'GET /api/trust-list': r('city', 'supervisor'),
  'POST /api/trust-list/platforms': r('city', 'supervisor'),
  'POST /api/trust-list/platforms/:id/changes': r('city', 'supervisor'),
  'POST /api/trust-list/changes/:id/decision': r('city', 'supervisor'), // four eyes: not the proposer (the workflow's Update)
  'POST /api/exchange/filings': r('platform', 'exchange'),
  'GET /api/exchange/seals': r('city', 'exchange', 'supervisor'),
  'GET /api/external-seals': r('district', 'officer', 'supervisor'),
  'GET /api/inbox': r('self', 'holder', 'maker'),
  'POST /api/inbox/:id/read': r('self', 'holder', 'maker'),
  'POST /api/applications': r('maker', 'maker'),
  'GET /api/applications': r('own', ...CASE_READERS),
  'GET /api/applications/:id': r('own', ...CASE_READERS),
  'GET /api/applications/:id/status': r('own', ...CASE_READERS),
  'POST /api/applications/:id/materials': r('maker', 'maker'),
  'GET /api/materials/:id': r('own', ...CASE_READERS),
  'POST /api/applications/:id/production': r('maker', 'maker'),
  'POST /api/applications/:id/filing': r('maker', 'maker'),
  'POST /api/applications/:id/collection': r('maker', 'maker'),
  'POST /api/applications/:id/district': r('city', 'supervisor'), // P3: a supervisor moves a case to another district
  'POST /api/applications/:id/failure-closure': r('maker', 'maker'),
  'GET /api/applications/:id/production-records': r('own', ...CASE_READERS),
  'POST /api/applications/:id/id-checks': r('maker', 'maker'),
  'GET /api/applications/:id/id-checks': r('own', ...CASE_READERS),
  'POST /api/applications/:id/production-records': r('maker', 'maker'),
  'POST /api/applications/:id/production-records/:version/decision': r('district', 'officer'),
  'GET /api/production-corrections': r('district', 'officer', 'supervisor'),
  'GET /api/tasks': r('district', 'officer', 'supervisor'),
  'POST /api/tasks/:id/decision': r('district', 'officer'),
  'GET /api/seals/:id/documents/:kind.:format': r('own', ...CASE_READERS),
  'GET /api/supervision/overdue-filings': r('district', 'officer', 'supervisor'),
  'GET /api/supervision/unclaimed': r('district', 'officer', 'supervisor'),
  'POST /api/registration/holders': r('city', 'admin'),
  'POST /api/registration/batches': pub,
  'GET /api/registration/batches/:id': r('city', 'supervisor', 'admin'),
  'GET /api/registration/feed-certificates': r('city', 'supervisor', 'admin'),
  'POST /api/registration/feed-certificates': r('city', 'admin'),
  'POST /api/registration/feed-certificates/:fingerprint/withdraw': r('city', 'admin'),
  'PATCH /api/makers/:id/licence': r('city', 'admin'),
  'GET /api/admin/failing-activities': r('city', 'admin'),
  'GET /api/seals/:id': r('own', ...CASE_READERS),
  'POST /api/seals/:id/changes': r('maker', 'maker'),
  'POST /api/seals/:id/compromise-reports': r('own', 'officer', 'holder'),
  'POST /api/seals/:id/keepers': r('holder', 'holder'),
  'GET /api/seals/:id/keepers': r('own', 'officer', 'supervisor', 'maker', 'holder'),
  'POST /api/person-lookups': r('district', 'officer', 'supervisor'),
  'DELETE /api/seals/:id/keepers': r('holder', 'holder'),
  'POST /api/seals/:id/password': r('own', 'maker', 'holder'),
  'POST /api/seals/:id/password/change': r('holder', 'holder'),
  'POST /api/seals/:id/password/reset-requests': r('holder', 'holder'),
  'POST /api/password-reset/:token/code': pub,
  'POST /api/password-reset/:token': pub,
  'GET /api/users': r('city', 'admin'),
  'GET /metrics': r('city', 'admin'), // Prometheus scrapes with an administrator's token
  'POST /api/users': r('city', 'admin'),
  'POST /api/users/:id/disable': r('city', 'admin'),
  'POST /api/account-setup/:token': pub,
  'POST /api/seals/:id/signatures': r('holder', 'holder'),
  'GET /api/seals/:id/national-seal': r('holder', 'holder'),
  'GET /api/use-register': r('holder', 'holder'),
  'GET /api/seals/:id/use-approvers': r('holder', 'holder'),
  'PUT /api/seals/:id/use-approvers': r('holder', 'holder'),
  'POST /api/use-requests': r('holder', 'holder'),
  'GET /api/use-requests': r('holder', 'holder'),
  'GET /api/use-requests/:id': r('holder', 'holder'),
  'POST /api/use-requests/:id/decision': r('holder', 'holder'),
  'GET /api/use-register.csv': r('holder', 'holder'),
  'POST /api/verifications': pub,
  'POST /api/tsa': pub, // RFC 3161: relying parties and PDF tools timestamp without an account
  'GET /api/supervision/seal-use': r('city', 'supervisor'),
  'POST /api/video-segments': r('maker', 'maker'),
  'GET /api/video-segments': r('own', 'officer', 'supervisor', 'maker'),
  'GET /api/video-segments/:id': r('own', ...EVERYONE),
  'POST /api/video-segments/:id/export': r('own', ...EVERYONE),
  'DELETE /api/video-segments/:id': r('own', ...EVERYONE),
  'GET /api/video-coverage': r('district', 'officer', 'supervisor'),
  'POST /api/video-segments/:id/legal-hold': r('district', 'officer', 'supervisor'),
  'DELETE /api/video-segments/:id/legal-hold': r('district', 'officer', 'supervisor'),
  'GET /api/archives/:id': r('district', 'officer', 'supervisor'),
  'GET /api/archive-disposals': r('city', 'supervisor'),
  'POST /api/archive-disposals/:id/decision': r('city', 'supervisor'),
  'POST /api/oauth/token': pub, // U2: the client's signed assertion is the credential
  'GET /api/clients': r('city', 'supervisor'),
  'POST /api/clients': r('city', 'supervisor'),
  'POST /api/clients/:id/suspend': r('city', 'supervisor'),
  'POST /api/clients/:id/resume': r('city', 'supervisor'),
  'GET /api/audit': r('city', 'supervisor'),
  'GET /api/audit.csv': r('city', 'supervisor'),

  // pages
  'GET /supervision/trust-list': r('city', 'supervisor'),
  'POST /supervision/trust-list/changes/:id/decision': r('city', 'supervisor'),
  'GET /': r('self', ...EVERYONE),
  'GET /login': pub,
  'POST /login': pub,
  'GET /verify': pub, // U2 P2: anyone verifies a sealed document
  'POST /verify': pub,
  'POST /verify/report.pdf': pub, // the report just shown, as a PDF signed by the platform (the form's token)
  'POST /logout': r('self', ...EVERYONE),
  'GET /account/password': r('self', ...EVERYONE),
  'GET /inbox': r('self', 'holder', 'maker'),
  'POST /inbox/:id/read': r('self', 'holder', 'maker'),
  'POST /account/password': r('self', ...EVERYONE),
  'GET /tasks': r('district', 'officer', 'supervisor'),
  'GET /tasks/state': r('district', 'officer', 'supervisor'),
  'GET /tasks/:id': r('district', 'officer', 'supervisor'),
  'POST /tasks/:id/decision': r('district', 'officer'),
  'POST /tasks/:id/claim': r('district', 'officer'),
  'POST /tasks/:id/release': r('district', 'officer'),
  'GET /cases': r('own', 'officer', 'supervisor', 'maker', 'holder'),
  'GET /cases/new': r('maker', 'maker'),
  'POST /cases/new': r('maker', 'maker'),
  'GET /cases/:id': r('own', ...CASE_READERS),
  'POST /cases/:id/district': r('city', 'supervisor'),
  'POST /cases/:id/materials': r('maker', 'maker'),
  'POST /cases/:id/production': r('maker', 'maker'),
  'POST /cases/:id/id-check': r('maker', 'maker'),
  'POST /cases/:id/filing': r('maker', 'maker'),
  'POST /cases/:id/collection': r('maker', 'maker'),
  'POST /cases/:id/failure-closure': r('maker', 'maker'),
  'GET /seals': r('own', 'maker', 'holder'),
  'GET /use-requests': r('holder', 'holder'),
  'POST /use-requests': r('holder', 'holder'),
  'GET /use-register': r('holder', 'holder'),
  'POST /use-requests/:id/decision': r('holder', 'holder'),
  'GET /seals/:id/sign': r('holder', 'holder'),
  'POST /seals/:id/sign': r('holder', 'holder'),
  'GET /seals/:id/imprint.png': r('own', ...CASE_READERS),
  'GET /seals/:id': r('own', ...CASE_READERS),
  'POST /seals/:id/changes': r('maker', 'maker'),
  'POST /seals/:id/keepers': r('holder', 'holder'),
  'POST /seals/:id/use-approvers': r('holder', 'holder'),
  'POST /seals/:id/keepers/remove': r('holder', 'holder'),
  'POST /seals/:id/password': r('own', 'maker', 'holder'),
  'POST /seals/:id/password/change': r('holder', 'holder'),
  'POST /seals/:id/password/reset': r('holder', 'holder'),
  'GET /supervision': r('city', 'supervisor'),
  'GET /supervision/:table.csv': r('city', 'supervisor'),
  'GET /supervision/compliance': r('city', 'supervisor'),
  'GET /supervision/compliance/makers.csv': r('city', 'supervisor'),
  'GET /supervision/compliance/city.csv': r('city', 'supervisor'),
  'GET /supervision/compliance/filings': r('city', 'supervisor'),
  'GET /supervision/compliance/filings.csv': r('city', 'supervisor'),
  'GET /supervision/audit': r('city', 'supervisor'),
  'GET /video': r('own', 'officer', 'supervisor', 'maker'),
  'POST /video': r('maker', 'maker'),
  'GET /video.csv': r('own', 'officer', 'supervisor', 'maker'),
  'GET /video/holds.csv': r('district', 'officer', 'supervisor'),
  'GET /video/coverage': r('district', 'officer', 'supervisor'),
  'GET /video/:id': r('own', 'officer', 'supervisor', 'maker'),
  'GET /video/:id/watch': r('district', 'officer', 'supervisor'),
  'GET /video/:id/stream': r('district', 'officer', 'supervisor'),
  'POST /video/:id/export': r('district', 'officer', 'supervisor'),
  'POST /video/:id/holds': r('district', 'officer', 'supervisor'),
  'POST /video/:id/holds/lift': r('district', 'officer', 'supervisor'),
  'GET /admin': r('city', 'admin'),
  'POST /admin/makers/:id/licence': r('city', 'admin'),
  'POST /admin/users': r('city', 'admin'),
  'POST /admin/users/:id/disable': r('city', 'admin'),
  'GET /account-setup/:token': pub,
  'POST /account-setup/:token': pub,
  'GET /password-reset/cases/:caseId': r('holder', 'holder'),
  'GET /password-reset/:token': pub,
  'POST /password-reset/:token/code': pub,
  'POST /password-reset/:token': pub,
};

/**
 * U2: the routes an API client's token reaches, and the scope each needs (sign: government, maker, enterprise;
 * verify: all tiers; issue: makers). Every other route refuses a client (403 insufficient_scope).
 */
const CLIENT_TABLE: Record<string, ClientScope> = {
  'POST /api/seals/:id/signatures': 'sign',
  'POST /api/verifications': 'verify',
  'POST /api/applications': 'issue',
  'GET /api/applications': 'issue',
  'GET /api/applications/:id': 'issue',
  'GET /api/applications/:id/status': 'issue',
  'POST /api/applications/:id/materials': 'issue',
  'GET /api/materials/:id': 'issue',
  'POST /api/applications/:id/production': 'issue',
  'POST /api/applications/:id/filing': 'issue',
  'POST /api/applications/:id/collection': 'issue',
  'POST /api/applications/:id/failure-closure': 'issue',
  'POST /api/applications/:id/id-checks': 'issue',
  'GET /api/applications/:id/id-checks': 'issue',
  'GET /api/applications/:id/production-records': 'issue',
  'POST /api/applications/:id/production-records': 'issue',
  'POST /api/exchange/filings': 'exchange',
  'GET /api/exchange/seals': 'exchange',
};

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean>; stack: Layer[] };
  handle?: { stack?: Layer[]; pageRouter?: { stack: Layer[] }; roles?: Role[] | 'public'; csrf?: boolean };
  rawPath?: string;
  slash?: boolean;
}

interface FoundRoute {
  key: string;
  method: string;
  path: string;
  page: boolean;
  /** Roles of the route's guard; 'public' for a route marked public; null for no guard at all. */
  roles: Role[] | 'public' | null;
  csrf: boolean;
}

/** Walks express 5's router stack, into mounted routers and the pages' router. */
function routesOf(stack: Layer[], prefix = '', page = false): FoundRoute[] {
  const out: FoundRoute[] = [];
  for (const layer of stack) {
    if (layer.route) {
      const p = layer.route.path;
      if (typeof p !== 'string') throw new Error(`a route path that is not a string: ${String(p)}`);
      const guard = layer.route.stack.find((l) => l.handle?.roles !== undefined);
      const csrf = layer.route.stack.some((l) => l.handle?.csrf === true);
      for (const m of Object.keys(layer.route.methods)) {
        if (m === '_all') continue;
        out.push({ key: `${m.toUpperCase()} ${prefix + p}`, method: m.toUpperCase(), path: prefix + p, page, roles: guard?.handle?.roles ?? null, csrf });
      }
    } else if (layer.handle?.pageRouter) {
      out.push(...routesOf(layer.handle.pageRouter.stack, prefix, true));
    } else if (layer.handle?.stack) {
      out.push(...routesOf(layer.handle.stack, layer.slash ? prefix : prefix + (layer.rawPath ?? ''), page));
    }
  }
  return out;
}

const app = createApp({} as unknown as Deps);
const routes = routesOf((app as unknown as { router: { stack: Layer[] } }).router.stack);

const allowed = (rule: Rule['roles'] | null, role: Role) => rule === 'public' || (Array.isArray(rule) && rule.includes(role));

describe('P1 P3: every route against every role (explicit table)', () => {
  it('P1: every route of the app is in the table, and every table entry is a route of the app', () => {
    expect(routes.length).toBeGreaterThan(60);
    const keys = routes.map((x) => x.key);
    expect({ missingFromTable: keys.filter((k) => !(k in TABLE)) }).toEqual({ missingFromTable: [] });
    expect({ notARoute: Object.keys(TABLE).filter((k) => !keys.includes(k)) }).toEqual({ notARoute: [] });
    expect({ duplicated: keys.filter((k, i) => keys.indexOf(k) !== i) }).toEqual({ duplicated: [] });
  });

  it('P1 P3: each role passes exactly the routes the table allows it, and public routes are public on purpose', () => {
    const wrong: string[] = [];
    for (const route of routes) {
      const rule = TABLE[route.key];
      if (!rule) continue; // reported above
      if (rule.roles === 'public') {
        // A public API route has no guard; a public page says so with publicPage().
        if (route.page ? route.roles !== 'public' : route.roles !== null) wrong.push(`${route.key}: public in the table, guarded by ${JSON.stringify(route.roles)}`);
        continue;
      }
      if (route.roles === null || route.roles === 'public') {
        wrong.push(`${route.key}: the table allows ${rule.roles.join(', ')} but the route has no role guard`);
        continue;
      }
      for (const role of ROLES) {
        const expected = allowed(rule.roles, role);
        const actual = allowed(route.roles, role);
        if (expected !== actual) wrong.push(`${route.key}: ${role} is ${actual ? 'allowed' : 'refused'}, the table says ${expected ? 'allow' : 'deny'}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('P3: routes about one case, seal, task or material are scoped, not only role-guarded', () => {
    const unscoped = Object.entries(TABLE).filter(([key, rule]) => /:(id|kind)/.test(key) && rule.roles !== 'public' && rule.scope === 'city' && (rule.roles as Role[]).some((x) => x === 'officer' || x === 'maker' || x === 'holder'));
    expect(unscoped.map(([k]) => k)).toEqual([]);
  });

  it('U2: API clients reach exactly the routes of the client table, each with its scope; the tiers hold the scopes the issue names', () => {
    expect(CLIENT_ROUTE_SCOPES).toEqual(CLIENT_TABLE);
    const keys = routes.map((x) => x.key);
    expect(Object.keys(CLIENT_TABLE).filter((k) => !keys.includes(k))).toEqual([]);
    // issue is the makers' application API: only routes a maker may call; sign is the holders' signature route;
    // exchange is the listed platforms' filing and export
    for (const [key, scope] of Object.entries(CLIENT_TABLE)) {
      const roles = TABLE[key].roles;
      if (scope === 'issue') expect({ key, maker: roles !== 'public' && roles.includes('maker') }).toEqual({ key, maker: true });
      if (scope === 'sign') expect({ key, holder: roles !== 'public' && roles.includes('holder') }).toEqual({ key, holder: true });
      if (scope === 'exchange') expect({ key, exchange: roles !== 'public' && roles.includes('exchange') }).toEqual({ key, exchange: true });
    }
    expect(TIER_SCOPES).toEqual({ government: ['sign', 'verify'], maker: ['issue', 'sign', 'verify'], enterprise: ['sign', 'verify'], platform: ['exchange'] });
  });

  it('P1: every form of the pages (POST) checks its CSRF token', () => {
    const unprotected = routes.filter((x) => x.page && x.method !== 'GET' && !x.csrf).map((x) => x.key);
    expect(unprotected).toEqual([]);
  });

  it('P1: every guarded route refuses a request without credentials (401 for the API, the login page for pages)', async () => {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The audit trail has no database here: its failures to record are expected and kept quiet.
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const problems: string[] = [];
    try {
      for (const route of routes) {
        const rule = TABLE[route.key];
        if (!rule || rule.roles === 'public') continue;
        const url =
          base +
          route.path
            .replace(':kind.:format', 'production_certificate.pdf')
            .replace(':table.csv', 'overdue.csv')
            .replace(/:(\w+)/g, '00000000-0000-4000-8000-000000000000');
        const res = await fetch(url, { method: route.method, redirect: 'manual', headers: route.page ? { accept: 'text/html' } : {} });
        await res.arrayBuffer();
        const ok = route.page && route.method === 'GET' ? res.status === 303 && (res.headers.get('location') ?? '').startsWith('/login?next=') : res.status === 401;
        if (!ok) problems.push(`${route.key}: answered ${res.status} ${res.headers.get('location') ?? ''}`);
      }
    } finally {
      quiet.mockRestore();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(problems).toEqual([]);
  });
});
