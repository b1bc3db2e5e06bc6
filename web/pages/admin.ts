// Administrators: makers and their licences (M1; through usecases/applications.updateMakerLicence), and who
// may log in.
import { Router, type Request, type Response } from 'express';
import { updateMakerLicence } from '../../usecases/licences';
import type { Deps } from '../../usecases/deps';
import { adminOverview } from '../../usecases/web-queries';
import { createAccount, disableAccount, holderIdByUscc, ROLES } from '../../usecases/account-admin';
import { BEIJING_DISTRICTS } from '../../domain/districts';
import { listFailingActivities } from '../../usecases/failing-activities';
import { flash, formBody, refusalOf, type Refusal } from './forms';
import { page } from './guards';
import { districtName, formatDate, formatTime } from './labels';
import { renderPage } from './render';
import type { Lang } from './session';
import { translate } from './render';

const LICENCE_TONE: Record<string, string> = { active: 'ok', suspended: 'warn', revoked: 'bad' };

export function adminPages(deps: Deps): Router {
  const r = Router();

  async function show(req: Request, res: Response, refusal: Refusal | null = null, extra: { created?: { username: string; link: string; expires: string }; values?: Record<string, string> } = {}) {
    const lang: Lang = req.lang ?? 'zh';
    const o = await adminOverview(deps.db, req.actor!);
    // Read from Temporal: when it is unreachable the page still serves licences and users, and says so.
    const failing = await listFailingActivities(deps, req.actor!).catch(() => null);
    renderPage(req, res, 'admin', {
      created: extra.created,
      values: extra.values ?? {},
      roleOptions: ROLES.map((x) => ({ value: x, label: translate(lang, `role.${x}`) })),
      districtOptions: BEIJING_DISTRICTS.map((d) => ({ value: d.code, label: `${lang === 'zh' ? d.nameZh : d.nameEn} (${d.code})` })),
      makerOptions: o.makers.map((m) => ({ value: m.id, label: `${m.name} (${m.licence_no})` })),
      title: lang === 'zh' ? '系统管理' : 'Administration',
      makers: o.makers.map((m) => ({
        ...m,
        district: districtName(m.district_code, lang),
        from: formatDate(m.licence_valid_from),
        until: formatDate(m.licence_valid_until),
        status: { label: translate(lang, `licence.${m.licence_status}`), tone: LICENCE_TONE[m.licence_status] ?? 'info' },
        statuses: ['active', 'suspended', 'revoked'].map((s) => ({ value: s, label: translate(lang, `licence.${s}`), selected: s === m.licence_status })),
      })),
      users: o.users.map((u) => ({ ...u, self: u.id === req.actor!.userId, disabled: u.disabled_at ? formatDate(u.disabled_at) : null, role: translate(lang, `role.${u.role}`), scope: u.district_code ? districtName(u.district_code, lang) : (u.maker_name ?? u.holder_name ?? (lang === 'zh' ? '全市' : 'City')) })),
      failingUnknown: failing === null,
      failing: (failing ?? []).map((f) => ({
        ...f,
        error: f.last_failure ? `${f.last_failure.type ? `${f.last_failure.type}: ` : ''}${f.last_failure.message}` : '',
        failed: formatTime(f.last_failure?.at),
        next: formatTime(f.next_attempt_at),
      })),
      errors: refusal?.fields,
      alert: refusal?.alert,
    }, refusal?.status ?? 200);
  }

  r.get('/admin', page('admin'), async (req, res) => show(req, res));
  r.post('/admin/makers/:id/licence', page('admin'), formBody(), async (req, res) => {
    const f = req.form!.fields;
    try {
      await updateMakerLicence(deps, req.actor!, String(req.params.id), { status: f.status, ...(f.valid_until ? { valid_until: f.valid_until } : {}) });
      flash(req, res, 'licenceUpdated');
      res.redirect(303, '/admin');
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      await show(req, res, refusal);
    }
  });
  // Accounts (issue 16 point 7). The set-password link is shown on this answer only (never in a URL, a
  // cookie or the database), for the administrator to hand over.
  r.post('/admin/users', page('admin'), formBody(), async (req, res) => {
    const f = req.form!.fields;
    try {
      const body: Record<string, unknown> = { username: f.username, display_name: f.display_name, role: f.role };
      if (f.role === 'officer') body.district_code = f.district_code;
      if (f.role === 'maker') body.maker_id = f.maker_id;
      if (f.role === 'holder') body.holder_id = await holderIdByUscc(deps.db, f.holder_uscc);
      const created = await createAccount(deps.db, req.actor!, body);
      const link = `${req.protocol}://${req.get('host')}${created.setup_link}`;
      await show(req, res, null, { created: { username: created.username, link, expires: formatDate(created.setup_link_expires_at) } });
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      await show(req, res, refusal, { values: { username: f.username ?? '', display_name: f.display_name ?? '', role: f.role ?? '', district_code: f.district_code ?? '', maker_id: f.maker_id ?? '', holder_uscc: f.holder_uscc ?? '' } });
    }
  });
  r.post('/admin/users/:id/disable', page('admin'), formBody(), async (req, res) => {
    try {
      await disableAccount(deps.db, req.actor!, String(req.params.id));
      flash(req, res, 'accountDisabled');
      res.redirect(303, '/admin');
    } catch (e) {
      const refusal = refusalOf(e);
      if (!refusal) throw e;
      await show(req, res, refusal);
    }
  });
  return r;
}
