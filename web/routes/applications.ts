// JSON API of application cases (see web/openapi.yaml). Thin: parse, call a use-case, answer.
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import * as uc from '../../usecases/applications';
import type { Deps } from '../../usecases/deps';
import * as licences from '../../usecases/licences';
import * as supervision from '../../usecases/supervision';
import * as tasks from '../../usecases/tasks';
import { getCaseStatus } from '../../usecases/case-status';
import { moveCaseToDistrict } from '../../usecases/case-district';
import { requireRole } from '../auth';
import { ApiError } from '../errors';
import { readUpload } from '../upload';
import * as idChecks from '../../usecases/id-document-checks';

export function applicationRoutes(deps: Deps): Router {
  const r = Router();
  // P1: the administrator (IT) manages accounts, makers and configuration, and sees no case or personal data.
  const any = requireRole('maker', 'officer', 'supervisor', 'holder');

  r.post('/api/applications', requireRole('maker'), async (req, res) => {
    res.status(201).json(await uc.submitApplication(deps, req.actor!, req.body, req.get('idempotency-key') ?? undefined));
  });
  r.get('/api/applications', any, async (req, res) => {
    res.json(await uc.listCases(deps, req.actor!, { status: typeof req.query.status === 'string' ? req.query.status : undefined }));
  });
  r.get('/api/applications/:id', any, async (req, res) => {
    res.json(await uc.getCaseView(deps, req.actor!, String(req.params.id)));
  });
  r.get('/api/applications/:id/status', any, async (req, res) => {
    // A long-poll stops waiting when its client goes away.
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    res.json(await getCaseStatus(deps, req.actor!, String(req.params.id), req.query, gone.signal));
  });
  r.post('/api/applications/:id/materials', requireRole('maker'), async (req, res) => {
    const { fields, file } = await readUpload(req);
    res.status(201).json(await uc.uploadMaterial(deps, req.actor!, String(req.params.id), { kind: fields.kind, file }));
  });
  r.get('/api/materials/:id', any, async (req, res) => {
    const m = await uc.readMaterial(deps, req.actor!, String(req.params.id));
    res.set('content-type', m.contentType).set('content-disposition', 'inline').set('x-content-type-options', 'nosniff');
    // A failure after the first bytes can only cut the response short (a client gone, a later chunk refused).
    await pipeline(m.stream, res).catch((e: unknown) => {
      if (!res.headersSent) throw e;
    });
  });
  r.post('/api/applications/:id/production', requireRole('maker'), async (req, res) => {
    const answer = await uc.recordProduction(deps, req.actor!, String(req.params.id), req.body, uc.preferredWaitMs(req.get('prefer')));
    if (!answer.settled) res.status(202).location(answer.statusUrl); // still producing: the status link follows it
    res.json(answer.view);
  });
  r.post('/api/applications/:id/filing', requireRole('maker'), async (req, res) => {
    res.status(201).json(await uc.submitFiling(deps, req.actor!, String(req.params.id), req.body));
  });
  // P3: a case filed in the wrong district goes to the right one, with its open task.
  r.post('/api/applications/:id/district', requireRole('supervisor'), async (req, res) => {
    res.json(await moveCaseToDistrict(deps, req.actor!, String(req.params.id), req.body));
  });
  r.post('/api/applications/:id/collection', requireRole('maker'), async (req, res) => {
    res.json(await uc.recordCollection(deps, req.actor!, String(req.params.id), req.body));
  });
  r.post('/api/applications/:id/failure-closure', requireRole('maker'), async (req, res) => {
    res.json(await uc.closeFailedProduction(deps, req.actor!, String(req.params.id), req.body));
  });

  r.get('/api/tasks', requireRole('officer', 'supervisor'), async (req, res) => {
    const q = req.query;
    res.json(await tasks.listTasks(deps, req.actor!, { status: typeof q.status === 'string' ? q.status : undefined, kind: typeof q.kind === 'string' ? q.kind : undefined }));
  });
  r.post('/api/tasks/:id/decision', requireRole('officer'), async (req, res) => {
    const answer = await tasks.decideTask(deps, req.actor!, String(req.params.id), req.body, uc.preferredWaitMs(req.get('prefer')));
    // 202: accepted, and the workflow is still acting on it; the status link follows the case.
    if (!answer.recorded) res.status(202).location(answer.status_url);
    res.json(answer);
  });

  // M2: the maker's check of the handler's original identity document.
  r.post('/api/applications/:id/id-checks', requireRole('maker'), async (req, res) => {
    res.status(201).json(await idChecks.recordIdDocumentCheck(deps, req.actor!, String(req.params.id), req.body));
  });
  r.get('/api/applications/:id/id-checks', any, async (req, res) => {
    res.set('cache-control', 'no-store').json(await idChecks.listIdDocumentChecks(deps, req.actor!, String(req.params.id)));
  });

  r.get('/api/seals/:id/documents/:kind.:format', any, async (req, res) => {
    const doc = await uc.getDocument(deps, req.actor!, String(req.params.id), String(req.params.kind));
    if (req.params.format === 'pdf') {
      res.set('content-type', 'application/pdf').set('content-disposition', `inline; filename="${req.params.kind}.pdf"`).send(doc.pdf);
    } else if (req.params.format === 'html') {
      // Rendered from escaped templates; a strict CSP keeps it inert even so.
      res.set('content-security-policy', "default-src 'none'; img-src data:; style-src 'unsafe-inline'").type('html').send(doc.html);
    } else {
      throw new ApiError(404, 'not_found', '格式不存在（pdf 或 html）', 'No such format (pdf or html)');
    }
  });

  r.get('/api/supervision/overdue-filings', requireRole('supervisor', 'officer'), async (req, res) => {
    res.json(await supervision.overdueFilings(deps, req.actor!));
  });
  r.get('/api/supervision/unclaimed', requireRole('supervisor', 'officer'), async (req, res) => {
    res.json(await supervision.unclaimedLedger(deps, req.actor!));
  });
  r.post('/api/registration/holders', requireRole('admin'), async (req, res) => {
    res.status(201).json(await licences.registerFromMarketFeed(deps, req.actor!, req.body));
  });
  r.patch('/api/makers/:id/licence', requireRole('admin'), async (req, res) => {
    res.json(await licences.updateMakerLicence(deps, req.actor!, String(req.params.id), req.body));
  });
  return r;
}
