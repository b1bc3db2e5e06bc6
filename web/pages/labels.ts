// Labels, status colours, times and countdowns of the pages, in Simplified Chinese and English.
import { BEIJING_DISTRICTS } from '../../domain/districts';
import { HOLDER_KIND_LABELS } from '../../domain/holders';
import { MATERIAL_LABELS } from '../../domain/materials';
import { PERSONAL_SEAL_ROLE_LABELS, SEAL_KIND_LABELS, SEAL_STATUS_LABELS } from '../../domain/seals';
import type { Lang } from './session';

export type Bi = { zh: string; en: string };
const bi = (zh: string, en: string): Bi => ({ zh, en });

export const CASE_STATUS_LABELS: Record<string, Bi> = {
  submitted: bi('已提交', 'Submitted'),
  materials_required: bi('待补材料', 'Materials required'),
  awaiting_establishment_approval: bi('待审批设立文件', 'Awaiting establishment approval'),
  licence_paused: bi('许可证无效暂停', 'Paused: licence invalid'),
  awaiting_production: bi('待制作', 'Awaiting production'),
  producing: bi('制作中', 'Producing'),
  production_failed: bi('制作失败，待处理', 'Production failed: action needed'),
  production_abandoned: bi('制作失败，已关闭', 'Production failed: closed'),
  awaiting_filing: bi('待备案', 'Awaiting filing'),
  filing_under_review: bi('备案审核中', 'Filing under review'),
  filing_returned: bi('备案被退回', 'Filing returned'),
  ready: bi('待领取', 'Ready for collection'),
  collected: bi('已领取', 'Collected'),
  rejected: bi('已驳回', 'Rejected'),
  cancelled_unclaimed: bi('逾期未领取已注销', 'Cancelled: unclaimed'),
  processing: bi('办理中', 'Processing'),
  completed: bi('已办结', 'Completed'),
  awaiting_reset_approval: bi('待审批', 'Awaiting approval'),
  refused: bi('不予办理', 'Refused'),
};

/** Colour of a status chip: ok (green), wait (amber), info (blue), bad (red), off (grey). */
const CASE_STATUS_TONE: Record<string, string> = {
  submitted: 'info', materials_required: 'wait', awaiting_establishment_approval: 'wait', licence_paused: 'bad',
  awaiting_production: 'wait', producing: 'info', production_failed: 'bad', production_abandoned: 'off', awaiting_filing: 'wait', filing_under_review: 'info', filing_returned: 'bad',
  ready: 'wait', collected: 'ok', rejected: 'off', cancelled_unclaimed: 'off', processing: 'info', completed: 'ok',
  awaiting_reset_approval: 'wait', refused: 'off',
};
const SEAL_STATUS_TONE: Record<string, string> = { in_production: 'info', ready: 'wait', active: 'ok', suspended: 'warn', stopped: 'bad', cancelled: 'off' };

export const CASE_KIND_LABELS: Record<string, Bi> = {
  application: bi('新刻申请', 'Application'),
  suspend: bi('暂停使用', 'Suspension'),
  resume: bi('恢复使用', 'Resumption'),
  stop: bi('停止使用', 'Stop of use'),
  cancel: bi('注销', 'Cancellation'),
  replace: bi('更换', 'Replacement'),
  compromise: bi('遗失或密钥泄露报告', 'Lost or compromised report'),
  password_reset: bi('保护口令重置', 'Password reset'),
};

/** What a filing with the police is about (filing_deadlines.kind). */
export const FILING_KIND_LABELS: Record<string, Bi> = {
  production: bi('制作备案', 'Production filing'),
  cancellation: bi('注销备案', 'Cancellation filing'),
  suspend: bi('暂停使用备案', 'Suspension filing'),
  resume: bi('恢复使用备案', 'Resumption filing'),
  stop: bi('停止使用备案', 'Stop-of-use filing'),
  replace: bi('更换备案', 'Replacement filing'),
  compromise: bi('遗失或密钥泄露备案', 'Lost or compromised filing'),
};

export const TASK_KIND_LABELS: Record<string, Bi> = {
  establishment_approval: bi('设立文件审批', 'Establishment approval'),
  filing_review: bi('备案审核', 'Filing review'),
  cancellation_filing: bi('注销备案', 'Cancellation filing'),
  password_reset_approval: bi('保护口令重置审批', 'Password reset approval'),
  production_correction: bi('制作信息更正审批', 'Production data correction'),
};

export const REPLACEMENT_REASON_LABELS: Record<string, Bi> = {
  holder_change: bi('用章单位变更', 'Change of holder'),
  name_change: bi('名称变更', 'Change of name'),
  legal_rep_change: bi('法定代表人变更', 'Change of legal representative'),
  operator_change: bi('经营者变更', 'Change of operator'),
  damaged: bi('印章损坏', 'Seal damaged'),
};

export const DOCUMENT_LABELS: Record<string, Bi> = {
  production_certificate: bi('电子印章制作证书', 'Production certificate'),
  cancellation_certificate: bi('电子印章登出证书', 'Cancellation certificate'),
};

export const EVENT_LABELS: Record<string, Bi> = {
  submitted: bi('提交申请', 'Application submitted'),
  requested: bi('提出申请', 'Request made'),
  materials_required: bi('等待补交材料', 'Waiting for materials'),
  materials_submitted: bi('补交材料', 'Materials submitted'),
  materials_complete: bi('材料齐全', 'Materials complete'),
  establishment_approval_requested: bi('提请设立文件审批', 'Establishment approval requested'),
  establishment_approved: bi('设立文件已批准', 'Establishment approved'),
  establishment_rejected: bi('设立文件未获批准', 'Establishment rejected'),
  licence_paused: bi('许可证无效，暂停', 'Paused: licence invalid'),
  awaiting_production: bi('等待制作', 'Awaiting production'),
  production_recorded: bi('录入制作信息', 'Production recorded'),
  produced: bi('制作完成', 'Produced'),
  production_failed: bi('制作失败，已吊销证书', 'Production failed; certificate revoked'),
  production_abandoned: bi('已告知用章单位，案件关闭', 'Holder told; case closed'),
  filing_deadline_started: bi('备案时限开始（24小时）', 'Filing deadline started (24 h)'),
  filing_overdue: bi('备案逾期', 'Filing overdue'),
  filing_submitted: bi('提交备案', 'Filed with the police'),
  district_moved: bi('移交其他辖区办理', 'Moved to another district'),
  filing_returned: bi('备案被退回', 'Filing returned'),
  filing_accepted: bi('备案通过', 'Filing accepted'),
  ready: bi('待领取', 'Ready for collection'),
  collected: bi('已领取', 'Collected'),
  cancelled_unclaimed: bi('逾期未领取，已注销', 'Cancelled: unclaimed'),
  cancellation_filing_accept: bi('注销备案通过', 'Cancellation filing accepted'),
  cancellation_filing_return: bi('注销备案退回', 'Cancellation filing returned'),
  reset_approval_requested: bi('提请口令重置审批', 'Reset approval requested'),
  reset_approved: bi('口令重置已批准', 'Reset approved'),
  reset_refused: bi('口令重置被退回', 'Reset refused'),
  reset_failed: bi('口令重置未能完成', 'Reset could not be completed'),
  keeper_named: bi('指定保管人', 'Keeper named'),
  keeper_removed: bi('移除保管人', 'Keeper removed'),
  protection_password_set: bi('设置保护口令', 'Protection password set'),
  protection_password_changed: bi('修改保护口令', 'Protection password changed'),
  protection_password_reset_requested: bi('申请重置保护口令', 'Password reset requested'),
  protection_password_reset: bi('保护口令已重置', 'Protection password reset'),
  password_reset_link_issued: bi('重置获批，一次性链接随消息发出', 'Reset approved; one-time links go with the message'),
  password_reset_code_sent: bi('短信验证码已发送', 'SMS code sent'),
  password_reset_proof_wrong: bi('身份核验错误（证件号码或验证码）', 'Wrong ID number or code'),
  password_reset_locked: bi('错误次数过多，重置已锁定', 'Too many wrong attempts: reset locked'),
  correction_submitted: bi('提交制作信息更正', 'Production data correction submitted'),
  correction_approved: bi('制作信息更正已批准', 'Production data correction approved'),
  correction_rejected: bi('制作信息更正被退回', 'Production data correction returned'),
  task_claimed: bi('认领任务', 'Task claimed'),
  task_released: bi('释放任务', 'Task released'),
  processed: bi('制作单位已办理', 'Processed by the maker'),
  applied: bi('已生效', 'Applied'),
  completed: bi('已办结', 'Completed'),
};

export const districtName = (code: string | null | undefined, lang: Lang) => {
  const d = BEIJING_DISTRICTS.find((x) => x.code === code);
  return d ? (lang === 'zh' ? d.nameZh : d.nameEn) : (code ?? '');
};

export const pick = (labels: Record<string, Bi>, key: string | null | undefined, lang: Lang) => (key ? (labels[key]?.[lang] ?? key) : '');

export const caseStatus = (status: string, lang: Lang) => ({ label: pick(CASE_STATUS_LABELS, status, lang), tone: CASE_STATUS_TONE[status] ?? 'info', value: status });
export const sealStatus = (status: string, lang: Lang) => ({ label: pick(SEAL_STATUS_LABELS as Record<string, Bi>, status, lang), tone: SEAL_STATUS_TONE[status] ?? 'info', value: status });

export function sealLabel(kind: string | null | undefined, number: number | null | undefined, lang: Lang) {
  if (!kind) return '';
  const base = pick(SEAL_KIND_LABELS as Record<string, Bi>, kind, lang);
  return number ? (lang === 'zh' ? `${base}(${number})` : `${base} (${number})`) : base;
}
export const holderKind = (kind: string | null | undefined, lang: Lang) => pick(HOLDER_KIND_LABELS as Record<string, Bi>, kind, lang);
export const materialLabel = (kind: string, lang: Lang) => (kind === 'on_site_image' ? (lang === 'zh' ? '经办人现场影像' : "Handler's on-site image") : pick(MATERIAL_LABELS as Record<string, Bi>, kind, lang));
export const personalRole = (role: string, lang: Lang) => pick(PERSONAL_SEAL_ROLE_LABELS as Record<string, Bi>, role, lang);

const TIME = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const DATE = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

/** '2026-11-27 14:05' in Beijing time; '' for nothing. */
export function formatTime(v: Date | string | null | undefined): string {
  if (!v) return '';
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? '' : TIME.format(d);
}
export function formatDate(v: Date | string | null | undefined): string {
  if (!v) return '';
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? String(v) : DATE.format(d);
}

/** '3 天 4 小时' / '3 d 4 h', '2 小时 5 分' / '2 h 5 min', at most two units. */
export function formatDuration(minutes: number, lang: Lang): string {
  const m = Math.max(0, Math.floor(minutes));
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const min = m % 60;
  const u = lang === 'zh' ? { d: ' 天', h: ' 小时', m: ' 分' } : { d: ' d', h: ' h', m: ' min' };
  if (d > 0) return `${d}${u.d}${h ? ` ${h}${u.h}` : ''}`;
  if (h > 0) return `${h}${u.h}${min ? ` ${min}${u.m}` : ''}`;
  return `${min}${u.m}`;
}

export interface Countdown {
  text: string;
  tone: 'ok' | 'soon' | 'overdue' | 'none';
  iso: string;
}

/** Time left until `due` (soon: under 4 hours), or how late it is. */
export function countdown(due: Date | string | null | undefined, lang: Lang, now = new Date()): Countdown {
  if (!due) return { text: lang === 'zh' ? '无时限' : 'no deadline', tone: 'none', iso: '' };
  const d = due instanceof Date ? due : new Date(due);
  const minutes = (d.getTime() - now.getTime()) / 60_000;
  if (minutes < 0) return { text: (lang === 'zh' ? '已逾期 ' : 'overdue by ') + formatDuration(-minutes, lang), tone: 'overdue', iso: d.toISOString() };
  return { text: (lang === 'zh' ? '剩余 ' : '') + formatDuration(minutes, lang) + (lang === 'zh' ? '' : ' left'), tone: minutes < 240 ? 'soon' : 'ok', iso: d.toISOString() };
}

export const formatBytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** A timeline event's one-line detail (reason, due time, missing materials, seal code …). */
export function eventDetail(type: string, data: Record<string, unknown> | null, lang: Lang): string {
  if (!data) return '';
  const parts: string[] = [];
  if (typeof data.reason === 'string' && data.reason) parts.push((lang === 'zh' ? '理由：' : 'Reason: ') + data.reason);
  if (typeof data.dueAt === 'string') parts.push((lang === 'zh' ? '时限 ' : 'due ') + formatTime(data.dueAt));
  if (typeof data.unclaimedDueAt === 'string') parts.push((lang === 'zh' ? '领取期限 ' : 'collect by ') + formatTime(data.unclaimedDueAt));
  if (typeof data.sealCode === 'string') parts.push((lang === 'zh' ? '印章编码 ' : 'seal code ') + data.sealCode);
  if (Array.isArray(data.missing) && data.missing.length) parts.push((lang === 'zh' ? '缺：' : 'missing: ') + data.missing.map((k) => materialLabel(String(k), lang)).join(lang === 'zh' ? '、' : ', '));
  if (typeof data.version === 'number' && type.startsWith('correction_')) parts.push(`v${data.version}`);
  if (data.late === true) parts.push(lang === 'zh' ? '逾期备案' : 'filed late');
  if (typeof data.kind === 'string' && type.startsWith('task_')) parts.push(pick(TASK_KIND_LABELS, data.kind, lang));
  if (typeof data.name === 'string') parts.push(data.name);
  if (typeof data.id_number_masked === 'string') parts.push(data.id_number_masked);
  return parts.join(' · ');
}

/** Reasons are stored as '中文 / English'; a page shows its language's half. */
export function bilingualOrRaw(s: string, lang: Lang): string {
  const i = s.indexOf(' / ');
  if (i < 0) return s;
  return lang === 'zh' ? s.slice(0, i) : s.slice(i + 3);
}

/** Workflow refusals name a case status by its code ('filing_returned'); the page shows its label. */
export function humaniseCodes(text: string, lang: Lang): string {
  return text.replace(/\b[a-z]+(?:_[a-z]+)+\b/g, (code) => CASE_STATUS_LABELS[code]?.[lang] ?? code);
}
