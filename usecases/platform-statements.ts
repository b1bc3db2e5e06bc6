// Use-cases behind /api/platform/statements: ask the platform to sign a statement, read it back verified.
import { createHash, createVerify, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import { statementBytes } from '../infra/signing/statement-bytes';
import type { Actor } from '../domain/actor';
import { invalid, notFound } from '../domain/refusals';
import { signStatementWorkflow } from '../workflows';

export interface Deps {
  db: Db;
  temporal: Client;
  config: Config;
}

const MAX_PAYLOAD_BYTES = 16 * 1024;
const requestSchema = z.object({
  kind: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/),
  payload: z.record(z.string(), z.unknown()),
});
const fieldNames: Record<string, [string, string]> = {
  kind: ['声明类型（小写字母、数字、点、下划线或连字符，最长 64 个字符）', 'kind (lower-case letters, digits, . _ -, at most 64 characters)'],
  payload: ['声明内容（JSON 对象）', 'payload (a JSON object)'],
};

/** A caller's idempotency key always maps to the same statement ID, so a repeated request signs once. */
const idFromIdempotencyKey = (actor: Actor, key: string) => {
  const h = createHash('sha256').update(`${actor.userId}\n${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export async function requestStatement(deps: Deps, actor: Actor, body: unknown, idempotencyKey?: string) {
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((i) => {
        const field = String(i.path[0] ?? 'body');
        const [zh, en] = fieldNames[field] ?? ['请求内容', 'request body'];
        return { field, message_zh: `${zh}无效`, message_en: `invalid ${en}` };
      }),
    );
  }
  if (Buffer.byteLength(JSON.stringify(parsed.data.payload)) > MAX_PAYLOAD_BYTES) {
    throw invalid([{ field: 'payload', message_zh: '声明内容超过 16 KiB', message_en: 'payload exceeds 16 KiB' }]);
  }
  const statementId = idempotencyKey ? idFromIdempotencyKey(actor, idempotencyKey) : randomUUID();
  const existing = await deps.db('platform_statements').where({ id: statementId }).first('id');
  if (!existing) {
    await deps.temporal.workflow.execute(signStatementWorkflow, {
      taskQueue: deps.config.temporal.taskQueues.main,
      workflowId: `statement:${statementId}`,
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [{ statementId, ...parsed.data, requestedBy: actor.userId, hsmTaskQueue: deps.config.temporal.taskQueues.hsm }],
    });
  }
  return getStatement(deps, statementId);
}

export async function getStatement(deps: Pick<Deps, 'db'>, id: string) {
  if (!z.string().uuid().safeParse(id).success) throw notFound('Statement', '声明');
  const row = await deps.db('platform_statements as s')
    .join('ca_certificates as c', 'c.fingerprint_sha256', 's.certificate_fingerprint')
    .where('s.id', id)
    .first('s.*', 'c.pem as certificate_pem');
  if (!row) throw notFound('Statement', '声明');
  const verified = createVerify('sha256')
    .update(statementBytes(row.kind, row.payload))
    .verify(row.certificate_pem, row.signature);
  return {
    id: row.id as string,
    kind: row.kind as string,
    payload: row.payload as Record<string, unknown>,
    payload_sha256: row.payload_sha256 as string,
    signature: (row.signature as Buffer).toString('base64'),
    signature_algorithm: 'ecdsa-with-SHA256',
    certificate_pem: row.certificate_pem as string,
    certificate_fingerprint: row.certificate_fingerprint as string,
    workflow_id: row.workflow_id as string,
    created_at: new Date(row.created_at).toISOString(),
    verified,
  };
}
