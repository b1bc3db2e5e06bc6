// Shared by the retention use-cases (M7 archives: retention-archives.ts; M8 video: retention-video.ts): the
// fields they name, the reason's rule, and how a retention workflow's refusal of an update is answered.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { parseName } from '../domain/application-intake';
import { DomainError, fieldRef, type FieldRef } from '../domain/errors';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const F = {
  camera: fieldRef('camera_id', '摄像机编号', 'Camera ID'),
  start: fieldRef('recorded_start', '录像开始时间', 'Recording start'),
  end: fieldRef('recorded_end', '录像结束时间', 'Recording end'),
  sha256: fieldRef('sha256', '内容哈希（SHA-256）', 'Content hash (SHA-256)'),
  file: fieldRef('file', '录像文件', 'Video file'),
  reason: fieldRef('reason', '事由', 'Reason'),
  holdId: fieldRef('hold_id', '法律保全编号', 'Legal hold ID'),
  decision: fieldRef('decision', '处理结果', 'Decision'),
} as const satisfies Record<string, FieldRef>;
export const FIELD_BY_KEY: Record<string, FieldRef> = Object.fromEntries(Object.values(F).map((f) => [f.key, f]));

export function parseReason(value: unknown, field: FieldRef = F.reason): string {
  return parseName(value, field, 500);
}

/** A workflow's refusal of an update becomes a bilingual error with the status the workflow named. */
export async function update<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
      const d = (e.cause.details?.[0] ?? {}) as { zh?: string; en?: string; httpStatus?: number; field?: string };
      throw new DomainError({
        code: e.cause.type ?? 'REFUSED',
        messageZh: d.zh ?? e.cause.message,
        messageEn: d.en ?? e.cause.message,
        httpStatus: d.httpStatus ?? 409,
        field: d.field ? (FIELD_BY_KEY[d.field] ?? d.field) : undefined,
      });
    }
    throw e;
  }
}

export const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
