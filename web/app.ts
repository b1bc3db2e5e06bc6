// The express application: thin routes over use-cases; authentication on every request.
import express from 'express';
import type { Deps } from '../usecases/deps';
import { applicationRoutes } from './routes/applications';
import { sealRoutes } from './routes/seals';
import { keeperRoutes } from './routes/keepers';
import { authenticate } from './auth';
import { pageRoutes } from './pages';
import { sessionAuth } from './pages/session';
import { auditTrail } from '../infra/audit/http';
import { auditRoutes } from './routes/audit';
import { personLookupRoutes } from './routes/person-lookup';
import { errorHandler } from './errors';
import { idempotentRequests } from './idempotency';
import { healthRoutes } from './routes/health';
import { openapiRoutes } from './routes/openapi';
import { pkiRoutes } from './routes/pki';
import { platformStatementRoutes } from './routes/platform-statements';
import { productionRecordRoutes } from './routes/production-records';
import { retentionRoutes } from './routes/retention';
import { validateRequests } from './openapi-validation';
import { certificateRoutes } from './routes/certificates';
import { accountRoutes } from './routes/accounts';
import { inboxRoutes } from './routes/inbox';
import { failingActivityRoutes } from './routes/failing-activities';
import { signingRoutes } from './routes/signing';
import { useApprovalRoutes } from './routes/use-approval';
import { verificationRoutes } from './routes/verification';
import { tsaRoutes } from './routes/tsa';
import { metricsRoutes } from './routes/metrics';
import { registrationBatchRoutes, registrationRoutes } from './routes/registration';
import { trustListRoutes } from './routes/trust-list';
import { requestContext } from './request-context';
import { clientAuthentication } from './client-auth';
import { apiClientRoutes, oauthTokenRoutes } from './routes/api-clients';
import { registerStateMetrics } from '../usecases/metrics';

export function createApp(deps: Deps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext()); // a request id on every request, its log lines and the workflows it starts; HTTP metrics
  registerStateMetrics(deps.db);
  app.use(express.json({ limit: '64kb' }));
  // P2: requests are checked against web/openapi.yaml: the public routes here, the others once the caller is
  // known and after the audit middleware, so that a refused change is recorded and a request without
  // credentials is still answered 401 first (each request is checked once).
  const openapiCheck = validateRequests();
  const isPublic = (p: string) => p.startsWith('/pki/') || p === '/healthz' || p === '/readyz' || p === '/api/openapi.yaml';
  const isPublicApi = (p: string) => p.startsWith('/api/password-reset/') || p.startsWith('/api/account-setup/'); // one-time links: audited
  app.use((req, res, next) => (isPublic(req.path) ? openapiCheck(req, res, next) : next()));
  app.use(healthRoutes(deps));
  app.use(openapiRoutes()); // public: relying systems read the API description without a login
  app.use(pkiRoutes(deps as Deps & { hsm: NonNullable<Deps['hsm']> })); // public: relying parties check certificate status without a login
  app.use(certificateRoutes(deps)); // public: each seal's certificate and chain, for relying parties
  app.use(oauthTokenRoutes(deps)); // U2: API clients get access tokens with a signed JWT assertion (audited in the use-case)
  app.use(clientAuthentication(deps.db)); // U2: an API client's access token; its own rate limit
  const clientAudit = auditTrail(deps.db);
  app.use((req, res, next) => (req.actor?.client && req.path === '/api/verifications' ? clientAudit(req, res, next) : next())); // a client's verifications are audited
  app.use(verificationRoutes(deps)); // public: whoever received a sealed document checks it without a login (rate-limited)
  app.use(tsaRoutes(deps)); // public: RFC 3161 timestamps from the platform's TSA (rate-limited; signed on HSM workers)
  app.use(registrationBatchRoutes(deps)); // A3: the registration authority's signed batches, authenticated by their signature
  app.use(authenticate(deps.db));
  app.use(sessionAuth(deps.db)); // browser sessions (cookie) give the same req.actor as a bearer token
  app.use(auditTrail(deps.db)); // M6 P1: every change and every refusal is written to the audit trail
  app.use((req, res, next) => (req.actor || isPublicApi(req.path) ? openapiCheck(req, res, next) : next()));
  app.use(idempotentRequests(deps)); // a repeated change (same Idempotency-Key) gets the first answer
  app.use(platformStatementRoutes(deps));
  app.use(applicationRoutes(deps));
  app.use(productionRecordRoutes(deps)); // M5: production data as versions; corrections append
  app.use(sealRoutes(deps));
  app.use(keeperRoutes(deps));
  app.use(signingRoutes(deps)); // U1 C4: seals sign documents; the use register
  app.use(useApprovalRoutes(deps)); // 三(四) 使用流程: use requests decided by the holder's named approvers
  app.use(retentionRoutes(deps)); // M7 M8: premises video and seal archives
  app.use(auditRoutes(deps));
  app.use(failingActivityRoutes(deps)); // administrators see activities that keep failing
  app.use(personLookupRoutes(deps)); // P1: records of a person by the keyed hash of the ID number
  app.use(metricsRoutes()); // Prometheus, administrators only
  app.use(apiClientRoutes(deps)); // U2: supervisors register API clients by tier
  app.use(accountRoutes(deps)); // administrators create and disable accounts; one-time set-password links
  app.use(inboxRoutes(deps)); // holders' and makers' messages and read receipts
  app.use(registrationRoutes(deps)); // A3: batch reports and the exchange's accepted certificates
  app.use(trustListRoutes(deps)); // I2: recognised platforms (four eyes), filings by other platforms, export of ours
  app.use(pageRoutes(deps)); // the back office in the browser (HTML pages; not part of web/openapi.yaml)
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message_zh: '页面不存在', message_en: 'Not found', fields: [] } });
  });
  app.use(errorHandler);
  return app;
}
