// JSON API of the audit trail (M6, P1): supervisors search it and export it as CSV. Thin: parse, call a
// use-case, answer. Nothing here is cached by clients or proxies.
import { once } from 'node:events';
import { Router } from 'express';
import * as uc from '../../usecases/audit';
import { requireRole } from '../auth';

export function auditRoutes(deps: uc.AuditDeps): Router {
  const r = Router();
  r.get('/api/audit', requireRole('supervisor'), async (req, res) => {
    res.set('cache-control', 'no-store').json(await uc.searchAudit(deps, req.actor!, req.query as Record<string, unknown>));
  });
  r.get('/api/audit.csv', requireRole('supervisor'), async (req, res) => {
    const csv = await uc.exportAudit(deps, req.actor!, req.query as Record<string, unknown>);
    res
      .status(200)
      .set('content-type', 'text/csv; charset=utf-8')
      .set('content-disposition', `attachment; filename="${csv.filename}"`)
      .set('cache-control', 'no-store')
      .set('x-content-type-options', 'nosniff');
    for await (const chunk of csv.chunks) {
      if (res.destroyed) return; // the client went away: stop reading
      if (!res.write(chunk)) {
        const stop = new AbortController();
        await Promise.race([once(res, 'drain', { signal: stop.signal }), once(res, 'close', { signal: stop.signal })]).catch(() => undefined);
        stop.abort();
      }
    }
    res.end();
  });
  return r;
}
