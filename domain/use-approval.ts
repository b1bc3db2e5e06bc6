// 三(四) 使用流程: what a use request says and how it is decided. Pure rules; the use-case authorises.
import { fieldRef, invalidField, requiredField, type FieldRef } from './errors';

export const USE_FIELDS = {
  sealId: fieldRef('seal_id', '印章', 'Seal'),
  documentName: fieldRef('document_name', '文件名称', 'Document name'),
  documentSha256: fieldRef('document_sha256', '文件 SHA-256 摘要', 'Document SHA-256'),
  approverIds: fieldRef('approver_ids', '用印审批人', 'Use approvers'),
  decision: fieldRef('decision', '审批结果', 'Decision'),
  reason: fieldRef('reason', '理由', 'Reason'),
  useRequestId: fieldRef('use_request_id', '用印申请', 'Use request'),
  status: fieldRef('status', '状态', 'Status'),
} as const satisfies Record<string, FieldRef>;

export const USE_REQUEST_STATUSES = {
  pending: { zh: '待审批', en: 'Awaiting approval' },
  approved: { zh: '已批准（待用印）', en: 'Approved (not yet used)' },
  rejected: { zh: '不批准', en: 'Rejected' },
  lapsed: { zh: '已过期', en: 'Lapsed' },
  used: { zh: '已用印', en: 'Used' },
} as const;
export type UseRequestStatusKey = keyof typeof USE_REQUEST_STATUSES;

/** A SHA-256 as 64 hex digits (either case; kept lower-case). */
export function parseSha256(v: unknown, field: FieldRef = USE_FIELDS.documentSha256): string {
  if (typeof v !== 'string' || v === '') throw requiredField(field);
  const s = v.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(s)) throw invalidField(field, '应为 64 位十六进制数字', 'must be 64 hexadecimal digits');
  return s;
}

/** The document's name as the queue shows it: no control characters or path, at most 255 characters. */
export function parseDocumentName(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw requiredField(USE_FIELDS.documentName);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) throw invalidField(USE_FIELDS.documentName, '不能含控制字符', 'must not contain control characters');
  const s = v.trim().split(/[\\/]/).pop() ?? '';
  if (s === '') throw requiredField(USE_FIELDS.documentName);
  if ([...s].length > 255) throw invalidField(USE_FIELDS.documentName, '最长255个字', 'is at most 255 characters');
  return s;
}

export function parseUseDecision(v: unknown): 'approve' | 'reject' {
  if (typeof v !== 'string' || v === '') throw requiredField(USE_FIELDS.decision);
  if (v !== 'approve' && v !== 'reject') throw invalidField(USE_FIELDS.decision, '应为 approve（批准）或 reject（不批准）', 'must be approve or reject');
  return v;
}

/** The use deadline from the moment of the request. */
export function useRequestDueAt(requestedAt: Date, deadlineMs: number): Date {
  return new Date(requestedAt.getTime() + deadlineMs);
}
