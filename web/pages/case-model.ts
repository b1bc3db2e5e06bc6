// The view of one case shared by the task page and the case page: case data, materials with their viewer,
// the imprint, the filing countdown, the tasks and the timeline (from case_events), and the link to the
// case in the Temporal Web UI for officers and supervisors.
import type { Request } from 'express';
import type { Config } from '../../infra/config';
import { getCaseView } from '../../usecases/applications';
import type { Deps } from '../../usecases/deps';
import { actorNames, caseDetails } from '../../usecases/web-queries';
import {
  bilingualOrRaw,
  CASE_KIND_LABELS,
  caseStatus,
  countdown,
  districtName,
  eventDetail,
  EVENT_LABELS,
  formatBytes,
  formatTime,
  holderKind,
  materialLabel,
  pick,
  sealLabel,
  sealStatus,
  TASK_KIND_LABELS,
  type Bi,
} from './labels';
import type { Lang } from './session';

/** The case's workflow in the Temporal Web UI (only where this project runs the dev server and its UI). */
export function temporalUiLink(config: Config, workflowId: string): string | null {
  if (!config.temporal.address.startsWith('127.0.0.1:') && !config.temporal.address.startsWith('localhost:')) return null;
  return `http://127.0.0.1:${config.temporal.devServer.uiPort}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export interface TimelineEntry {
  at: string;
  label: string;
  detail: string;
  actor: string;
  caseLabel?: string;
  tone: string;
}

const EVENT_TONE: Record<string, string> = {
  filing_overdue: 'bad', filing_returned: 'bad', production_failed: 'bad', establishment_rejected: 'bad', reset_refused: 'bad', reset_failed: 'bad', licence_paused: 'bad', cancelled_unclaimed: 'bad',
  filing_accepted: 'ok', collected: 'ok', produced: 'ok', materials_complete: 'ok', reset_approved: 'ok', establishment_approved: 'ok', completed: 'ok',
};

export async function timeline(deps: Pick<Deps, 'db'>, events: Array<{ type: string; data: unknown; actor_id: string | null; at: Date | string; case_kind?: string }>, lang: Lang): Promise<TimelineEntry[]> {
  const names = await actorNames(deps.db, events.map((e) => e.actor_id));
  return events.map((e) => {
    const data = (typeof e.data === 'string' ? JSON.parse(e.data) : e.data) as Record<string, unknown> | null;
    return {
      at: formatTime(e.at),
      label: pick(EVENT_LABELS, e.type, lang),
      detail: eventDetail(e.type, data, lang),
      actor: e.actor_id ? (names[e.actor_id] ?? '') : lang === 'zh' ? '系统' : 'system',
      caseLabel: e.case_kind && e.case_kind !== 'application' ? pick(CASE_KIND_LABELS, e.case_kind, lang) : undefined,
      tone: EVENT_TONE[e.type] ?? '',
    };
  });
}

export async function caseModel(deps: Deps, req: Request, caseId: string) {
  const lang: Lang = req.lang ?? 'zh';
  const actor = req.actor!;
  const view = await getCaseView(deps, actor, caseId);
  const details = await caseDetails(deps, actor, caseId);
  const materials = (view.materials as Array<{ id: string; kind: string; original_name: string; content_type: string; size: number; created_at: Date }>).map((m) => ({
    id: m.id,
    kindLabel: materialLabel(m.kind, lang),
    kind: m.kind,
    name: m.original_name,
    size: formatBytes(Number(m.size)),
    uploaded: formatTime(m.created_at),
    url: `/api/materials/${m.id}`,
    isImage: m.content_type.startsWith('image/'),
  }));
  const tasks = (view.tasks as Array<{ id: string; kind: string; status: string; decision: string | null; reason: string | null; due_at: Date | null; decided_at: Date | null }>).map((t) => ({
    id: t.id,
    kindLabel: pick(TASK_KIND_LABELS, t.kind, lang),
    open: t.status === 'open',
    decision: t.decision ? (t.decision === 'accept' ? (lang === 'zh' ? '通过' : 'accepted') : lang === 'zh' ? '退回' : 'returned') : '',
    decisionTone: t.decision === 'accept' ? 'ok' : 'bad',
    reason: t.reason,
    decided: formatTime(t.decided_at),
    due: countdown(t.due_at, lang),
  }));
  const stateLabels: Record<string, [string, string, string]> = {
    current: ['现行', 'current', 'ok'],
    superseded: ['已被更正', 'superseded', 'info'],
    pending_approval: ['待民警审批', 'awaiting approval', 'warn'],
    rejected: ['更正被驳回', 'rejected', 'bad'],
  };
  // M5: every version stays readable where the record is shown.
  const productionRecords = view.production_records.map((v) => ({
    version: v.version,
    state: { label: stateLabels[v.state][lang === 'zh' ? 0 : 1], tone: stateLabels[v.state][2] },
    data: Object.entries(v.data).map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) })),
    reason: v.reason,
    author: v.author.display_name,
    recorded: formatTime(v.created_at),
    approval: v.approval ? `${v.approval.decision === 'approved' ? (lang === 'zh' ? '批准' : 'approved') : lang === 'zh' ? '驳回' : 'rejected'} ${formatTime(v.approval.decided_at)}${v.approval.reason ? ` · ${v.approval.reason}` : ''}` : '',
  }));
  const filing = view.filing
    ? {
        due: formatTime(view.filing.due_at),
        countdown: view.filing.first_filed_at ? null : countdown(view.filing.due_at, lang),
        filed: formatTime(view.filing.first_filed_at),
        accepted: formatTime(view.filing.accepted_at),
        late: view.filing.late || (!!view.filing.overdue_at && !view.filing.first_filed_at),
      }
    : null;
  const reason = view.status_reason as unknown;
  const reasonText = reason && typeof reason === 'object' ? (reason as Bi)[lang] : typeof reason === 'string' ? bilingualOrRaw(reason, lang) : null;
  const seesWorkflow = actor.role === 'officer' || actor.role === 'supervisor';
  return {
    id: view.id,
    kind: view.kind,
    makerId: view.maker_id,
    kindLabel: pick(CASE_KIND_LABELS, view.kind, lang),
    isApplication: view.kind === 'application',
    status: caseStatus(view.status, lang),
    statusValue: view.status,
    statusReason: reasonText,
    district: districtName(view.district_code, lang),
    holder: { ...view.holder, kindLabel: holderKind(view.holder.kind, lang), address: details.address, legalRepresentative: details.legal_representative },
    maker: { name: details.maker_name, licence: details.licence_no },
    handler: { name: details.handler_name, phone: details.handler_phone },
    requestReason: details.request_reason,
    created: formatTime(details.created_at),
    seal: {
      ...view.seal,
      label: sealLabel(view.seal.kind, view.seal.number, lang),
      status: sealStatus(view.seal.status, lang),
      hasImprint: !!view.seal.imprint_sha256,
      imprintUrl: `/seals/${view.seal.id}/imprint.png`,
      unclaimedDue: formatTime(view.seal.unclaimed_due_at),
      unclaimedCountdown: view.seal.status === 'ready' ? countdown(view.seal.unclaimed_due_at, lang) : null,
    },
    missing: view.missing_materials.map((m) => ({ kind: m.kind, label: lang === 'zh' ? m.label_zh : m.label_en })),
    materials,
    firstMaterial: materials[0] ?? null,
    tasks,
    productionRecords,
    filing,
    timeline: await timeline(deps, view.events as Array<{ type: string; data: unknown; actor_id: string | null; at: Date }>, lang),
    temporalUrl: seesWorkflow ? temporalUiLink(deps.config, view.workflow_id) : null,
    workflowId: view.workflow_id,
  };
}
