// P2: the OpenAPI description of this API (web/openapi.yaml), served as is. Public: no token needed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Router } from 'express';

/** web/openapi.yaml, found from this file both in the source tree and in a compiled dist/ tree. */
export function openapiPath(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'web', 'openapi.yaml');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`web/openapi.yaml not found above ${__dirname}`);
  }
}

export function openapiRoutes(): Router {
  const r = Router();
  const yaml = readFileSync(openapiPath(), 'utf8'); // read once: a missing file stops the server at start
  r.get('/api/openapi.yaml', (_req, res) => {
    res.set('content-type', 'application/yaml; charset=utf-8').set('x-content-type-options', 'nosniff').send(yaml);
  });
  return r;
}
