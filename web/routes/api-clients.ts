// JSON API of API clients by tier (U2): supervisors register, list, suspend and resume clients; a client gets
// an access token with the OAuth 2.0 client-credentials grant and a signed JWT assertion (RFC 7523).
import express, { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { issueAccessToken, listApiClients, registerApiClient, setApiClientStatus } from '../../usecases/api-clients';
import { requireRole } from '../auth';
import { rateLimit } from '../rate-limit';
import { validateRequests } from '../openapi-validation';

/** Token requests per minute and address: each is a signature check and a few writes. */
export const TOKEN_RATE_PER_MINUTE = Number(process.env.OAUTH_TOKEN_RATE_PER_MINUTE ?? 60);

/** The token endpoint: public (the assertion is the credential), form-encoded as RFC 6749 §4.4 says. */
export function oauthTokenRoutes(deps: Deps): Router {
  const r = Router();
  // Per address, then the form is read and checked against web/openapi.yaml (the app's check runs before
  // any form parser, so this route runs it itself once the body is read).
  const steps = [rateLimit({ limit: TOKEN_RATE_PER_MINUTE, windowMs: 60_000 }), express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 }), validateRequests()];
  r.use((req, res, next) => {
    if (req.method !== 'POST' || req.path !== '/api/oauth/token') return next();
    const run = (i: number) => (err?: unknown) => (err ? next(err) : i < steps.length ? steps[i](req, res, run(i + 1)) : next());
    run(0)();
  });
  r.post('/api/oauth/token', async (req, res) => {
    const form = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    res.set('cache-control', 'no-store').set('pragma', 'no-cache').json(await issueAccessToken(deps, form));
  });
  return r;
}

export function apiClientRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/api/clients', requireRole('supervisor'), async (req, res) => {
    res.set('cache-control', 'no-store').json({ clients: await listApiClients(deps, req.actor!) });
  });
  r.post('/api/clients', requireRole('supervisor'), async (req, res) => {
    res.status(201).json(await registerApiClient(deps, req.actor!, req.body ?? {}));
  });
  r.post('/api/clients/:id/suspend', requireRole('supervisor'), async (req, res) => {
    res.json(await setApiClientStatus(deps, req.actor!, String(req.params.id), 'suspended'));
  });
  r.post('/api/clients/:id/resume', requireRole('supervisor'), async (req, res) => {
    res.json(await setApiClientStatus(deps, req.actor!, String(req.params.id), 'active'));
  });
  return r;
}
