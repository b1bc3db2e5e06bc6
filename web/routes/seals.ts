// JSON API of a seal's life after issue (M11–M13). Thin: parse, call a use-case, answer.
import { Router } from 'express';
import type { Deps } from '../../usecases/deps';
import { getSeal, requestSealChange } from '../../usecases/seal-lifecycle';
import { reportSealCompromise } from '../../usecases/seal-compromise';
import { requireRole } from '../auth';
import { readUpload } from '../upload';

export function sealRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/api/seals/:id', requireRole('maker', 'officer', 'supervisor', 'holder'), async (req, res) => {
    res.json(await getSeal(deps, req.actor!, String(req.params.id)));
  });
  // multipart: kind, legal_rep_id_number, handler_name, handler_id_number, handler_phone, reason,
  // replacement_reason, new_holder_name, and the file authorisation_letter
  r.post('/api/seals/:id/changes', requireRole('maker'), async (req, res) => {
    const { fields, file } = await readUpload(req);
    const result = await requestSealChange(deps, req.actor!, String(req.params.id), { kind: fields.kind, fields, letter: file }, req.get('idempotency-key'));
    res.status(result.status === 'processing' ? 202 : 201).json(result); // 202: the workflow has it and will apply it
  });
  // JSON: report (lost | compromised), invalidity_date, handler_name, handler_id_number, handler_phone, reason
  r.post('/api/seals/:id/compromise-reports', requireRole('holder', 'officer'), async (req, res) => {
    const result = await reportSealCompromise(deps, req.actor!, String(req.params.id), req.body, req.get('idempotency-key'));
    res.status(result.status === 'processing' ? 202 : 201).json(result); // 202: the workflow has it and will apply it
  });
  return r;
}
