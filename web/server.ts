// The web process: listens, and on SIGTERM/SIGINT stops taking connections and closes its clients.
import '../infra/observability/register-tracing'; // first: before http, pg and express are loaded
import { createServer, type Server } from 'node:http';
import { loadConfig, type Config } from '../infra/config';
import { createDb } from '../infra/db';
import { createTemporalClient } from '../infra/temporal';
import { createApp } from './app';
import { withOcspFrontDoor } from './routes/pki';
import { stopOcspCache } from '../infra/pki/ocsp';
import { blobStoreFromConfig } from '../infra/blobs';
import { appendAudit } from '../infra/audit/log';
import { openToken } from '../infra/hsm/tokens';
import { repairCasesWithoutWorkflow } from '../usecases/case-repair';
import { logger } from '../infra/observability/logger';
import { tracing } from '../infra/observability/tracing';

export async function startWebServer(config: Config, port = config.runtime.webPort) {
  if (!config.runtime.databaseUrl) throw new Error('DATABASE_URL is not set: start the web server through `make up` or set it.');
  const db = createDb(config.runtime.databaseUrl);
  const temporal = await createTemporalClient(config, { failFast: true });
  // M4: the web's own token only (OCSP responder key, personal-data KEK); never the issuing or root token,
  // whose PINs its configuration does not hold (HSM_TOKENS=web).
  const hsm = await openToken(config, 'web');
  // A stored file that fails its hash check is an incident: recorded in the audit trail as well as refused.
  const blobs = blobStoreFromConfig(config, {
    onCorrupted: (e) => appendAudit(db, { action: 'blob.corrupted', outcome: 'error', targetType: 'blob', targetId: e.sha256, details: { store: e.store, actualSha256: e.actual } }).then(() => undefined),
  });
  const app = createApp({ db, temporal, config, hsm, blobs });
  // Case rows without a workflow (a crash or outage between the two, issue 17): started at start-up and every minute.
  const repair = () =>
    repairCasesWithoutWorkflow({ db, temporal, config })
      .then((ids) => ids.length && logger.warn({ caseIds: ids }, `started the workflows of ${ids.length} case(s) that had none`))
      .catch((e: Error) => logger.warn(`case repair: ${e.message.split('\n')[0]} (next try in a minute)`));
  let repairing = repair();
  const repairTimer = setInterval(() => (repairing = repair()), 60_000);
  repairTimer.unref();
  const server: Server = await new Promise((resolve) => {
    const s = createServer(withOcspFrontDoor({ db, hsm, config }, app)).listen(port, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    port: actualPort,
    url: `http://127.0.0.1:${actualPort}`,
    async close() {
      // Finish requests in flight; idle keep-alive connections are closed at once.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 5000);
      await closed;
      clearTimeout(force);
      clearInterval(repairTimer);
      await repairing;
      await temporal.connection.close();
      await hsm.close();
      await stopOcspCache(db); // its LISTEN connection
      await db.destroy();
    },
  };
}

if (require.main === module) {
  void (async () => {
    const web = await startWebServer(loadConfig({ ...process.env, HSM_TOKENS: 'web' }));
    logger.info(`web: listening on ${web.url}`);
    const stop = async () => {
      await web.close();
      await tracing().shutdown(); // the spans not yet sent
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
  })().catch((e) => {
    logger.fatal({ err: e }, 'web server stopped');
    process.exit(1);
  });
}
