// Server-side rendering of the pages: handlebars templates in web/views/{layouts,partials,pages}, with
// HTML escaping everywhere ({{…}} only; the layout's {{{body}}} is the page this module rendered). Static
// texts come from the dictionary (web/pages/i18n.ts) in the request's language.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { Request, Response } from 'express';
import { MESSAGES } from './i18n';
import { formatTime, humaniseCodes } from './labels';
import type { Lang } from './session';
import type { Role } from '../auth';

/** web/views, found from this file in the source tree and in a compiled dist/ tree. */
function viewsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'web', 'views');
    if (existsSync(path.join(candidate, 'layouts'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`web/views/layouts not found above ${__dirname}`);
  }
}

export function translate(lang: Lang, key: string, vars: Record<string, unknown> = {}): string {
  const entry = MESSAGES[key];
  if (!entry) throw new Error(`no message "${key}" in web/pages/i18n.ts`);
  return entry[lang === 'en' ? 1 : 0].replace(/\{(\w+)\}/g, (_, k: string) => (vars[k] === undefined || vars[k] === null ? '' : String(vars[k])));
}

const hb = Handlebars.create();
hb.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
  return translate(options.data.root.lang as Lang, key, options.hash);
});
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hb.registerHelper('not', (a: unknown) => !a);
hb.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
hb.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
hb.registerHelper('time', (v: Date | string | null | undefined) => formatTime(v));
/** The error message of a form field, in the page's language (errors are keyed by the field's name). */
hb.registerHelper('fieldError', function (this: unknown, name: string, options: Handlebars.HelperOptions) {
  const e = (options.data.root.errors ?? {})[name] as { zh: string; en: string } | undefined;
  return e ? e[options.data.root.lang === 'en' ? 'en' : 'zh'] : '';
});
hb.registerHelper('fieldValue', function (this: unknown, name: string, options: Handlebars.HelperOptions) {
  const v = (options.data.root.values ?? {})[name];
  return v === undefined || v === null ? '' : String(v);
});
hb.registerHelper('checkedIf', function (this: unknown, name: string, value: unknown, options: Handlebars.HelperOptions) {
  const v = (options.data.root.values ?? {})[name];
  return v !== undefined && String(v) === String(value) ? 'checked' : '';
});
hb.registerHelper('selectedIf', function (this: unknown, name: string, value: unknown, options: Handlebars.HelperOptions) {
  const v = (options.data.root.values ?? {})[name];
  return v !== undefined && String(v) === String(value) ? 'selected' : '';
});
/** 'id-holder-uscc' from 'holder.uscc': ids for labels and aria-describedby. */
hb.registerHelper('fid', (name: string) => 'f-' + String(name).replace(/[^A-Za-z0-9_-]/g, '-'));
hb.registerHelper('json', (v: unknown) => JSON.stringify(v));
/** A bilingual value ({ zh, en }) in the page's language. */
hb.registerHelper('bi', function (this: unknown, v: { zh?: string; en?: string } | null | undefined, options: Handlebars.HelperOptions) {
  return v ? (options.data.root.lang === 'en' ? v.en : v.zh) ?? '' : '';
});

const dir = viewsDir();
const templates = new Map<string, Handlebars.TemplateDelegate>();
let partialsLoaded = false;

function loadPartials() {
  if (partialsLoaded) return;
  const pdir = path.join(dir, 'partials');
  for (const f of readdirSync(pdir).filter((x) => x.endsWith('.hbs'))) hb.registerPartial(f.slice(0, -4), readFileSync(path.join(pdir, f), 'utf8'));
  partialsLoaded = true;
}

function template(rel: string): Handlebars.TemplateDelegate {
  let t = templates.get(rel);
  if (!t) {
    loadPartials();
    t = hb.compile(readFileSync(path.join(dir, rel), 'utf8'), { strict: false, preventIndent: true });
    templates.set(rel, t);
  }
  return t;
}

const NAV: Record<Role, Array<{ href: string; key: string }>> = {
  officer: [{ href: '/tasks', key: 'nav.tasks' }, { href: '/cases', key: 'nav.cases' }, { href: '/video', key: 'nav.video' }],
  supervisor: [
    { href: '/supervision', key: 'nav.supervision' }, { href: '/supervision/compliance', key: 'nav.compliance' }, { href: '/supervision/audit', key: 'nav.audit' }, { href: '/supervision/trust-list', key: 'nav.trustList' },
    { href: '/tasks', key: 'nav.tasks' }, { href: '/cases', key: 'nav.cases' }, { href: '/video', key: 'nav.video' },
  ],
  maker: [{ href: '/cases', key: 'nav.desk' }, { href: '/cases/new', key: 'nav.newApplication' }, { href: '/seals', key: 'nav.producedSeals' }, { href: '/video', key: 'nav.video' }, { href: '/inbox', key: 'nav.inbox' }],
  holder: [{ href: '/seals', key: 'nav.mySeals' }, { href: '/use-requests', key: 'nav.useApprovals' }, { href: '/use-register', key: 'nav.useRegister' }, { href: '/cases', key: 'nav.cases' }, { href: '/inbox', key: 'nav.inbox' }],
  admin: [{ href: '/admin', key: 'nav.admin' }],
  exchange: [], // another platform's data-exchange client uses the API only (I2)
};

const ROLE_KEYS: Record<Role, string> = { officer: 'role.officer', supervisor: 'role.supervisor', maker: 'role.maker', holder: 'role.holder', admin: 'role.admin', exchange: 'role.exchange' };

/** The same URL with `lang` set, for the language switch. */
function withLang(req: Request, lang: Lang): string {
  const url = new URL(req.originalUrl, 'http://x');
  url.searchParams.set('lang', lang);
  return url.pathname + url.search;
}

export interface PageModel {
  title: string;
  /** Field errors by field name ({ zh, en }), and the values to put back into a form. */
  errors?: Record<string, { zh: string; en: string }>;
  values?: Record<string, unknown>;
  /** A refusal or problem shown at the top of the page. */
  alert?: { zh: string; en: string } | null;
  [key: string]: unknown;
}

export function renderPage(req: Request, res: Response, page: string, model: PageModel, status = 200) {
  const lang: Lang = req.lang ?? 'zh';
  const actor = req.actor;
  const current = req.path;
  const nav = actor
    ? NAV[actor.role].map((n) => ({ href: n.href, label: translate(lang, n.key), current: current === n.href || (n.href !== '/cases' && current.startsWith(n.href + '/') && !NAV[actor.role].some((o) => o.href.startsWith(n.href + '/') && current.startsWith(o.href))) }))
    : [];
  const flash = res.locals.flash as string | undefined;
  const root = {
    ...model,
    lang,
    htmlLang: lang === 'zh' ? 'zh-CN' : 'en',
    csrf: req.webSession?.csrfToken ?? '',
    user: actor && req.webSession ? { name: req.webSession.displayName, role: translate(lang, ROLE_KEYS[actor.role]), username: actor.username } : null,
    nav,
    langZh: withLang(req, 'zh'),
    langEn: withLang(req, 'en'),
    flash: flash && MESSAGES[`flash.${flash}`] ? translate(lang, `flash.${flash}`) : null,
    alertText: model.alert ? humaniseCodes(model.alert[lang], lang) : null,
    errors: model.errors ?? {},
    values: model.values ?? {},
    hasErrors: model.errors ? Object.keys(model.errors).length > 0 : false,
  };
  const body = template(`pages/${page}.hbs`)(root);
  const html = template('layouts/main.hbs')({ ...root, body });
  res
    .status(status)
    .set('content-type', 'text/html; charset=utf-8')
    .set('cache-control', 'no-store')
    .set('x-content-type-options', 'nosniff')
    .set('x-frame-options', 'SAMEORIGIN')
    .set('referrer-policy', 'same-origin')
    .set('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'")
    .send(html);
}
