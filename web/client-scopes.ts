// U2: what an API client's token may reach, by scope. A client acts through a service account of role holder
// (government, enterprise) or maker, but only on the routes listed here, and only with a token holding the
// route's scope: `sign` the signature route, `verify` the verification route, `issue` the makers' application
// API, `exchange` another listed platform's filing of its seals and its reading of ours (I2). Every other route (keepers, passwords, the use register, the pages, …) refuses a client's token with
// 403 `insufficient_scope`. The role guards read this table (web/auth.ts); the route table test checks it.
import type { ClientScope } from '../domain/api-clients';

export const CLIENT_ROUTE_SCOPES: Readonly<Record<string, ClientScope>> = {
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
