// The express application: thin routes over use-cases; authentication on every request.
import express from 'express';
import type { Deps } from '../usecases/applications';
import { applicationRoutes } from './routes/applications';
import { sealRoutes } from './routes/seals';
import { keeperRoutes } from './routes/keepers';
import { authenticate } from './auth';
import { errorHandler } from './errors';
import { healthRoutes } from './routes/health';
import { openapiRoutes } from './routes/openapi';
import { platformStatementRoutes } from './routes/platform-statements';

export function createApp(deps: Deps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(express.json({ limit: '64kb' }));
  app.use(healthRoutes(deps));
  app.use(openapiRoutes()); // public: relying systems read the API description without a login
  app.use(authenticate(deps.db));
  app.use(platformStatementRoutes(deps));
  app.use(applicationRoutes(deps));
  app.use(sealRoutes(deps));
  app.use(keeperRoutes(deps));
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message_zh: '页面不存在', message_en: 'Not found', fields: [] } });
  });
  app.use(errorHandler);
  return app;
}
