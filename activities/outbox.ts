// Writing an outbox message and handing it to its delivery workflow, in one idempotent step: the row is keyed
// by message_key (a retry finds the same row) and the workflow by the message's id (a retry finds it started).
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Db } from '../infra/db';

export interface OutboxMessage {
  messageKey: string;
  kind: string;
  audience: 'holder' | 'maker';
  /** holders.id or makers.id, by audience. */
  recipient: string;
  body: string;
  at: string | Date;
  sealId?: string | null;
  caseId?: string | null;
  /** A page of the web (a path, never a token). */
  linkPath?: string | null;
}

export const messageDeliveryWorkflowId = (messageId: string) => `message:${messageId}`;

/** Stores the message once and starts its delivery (workflows/message-delivery.ts) once; returns its id. */
export async function postMessage(db: Db, m: OutboxMessage): Promise<string> {
  await db('outbox_messages')
    .insert({
      id: randomUUID(),
      message_key: m.messageKey,
      seal_id: m.sealId ?? null,
      case_id: m.caseId ?? null,
      channel: 'delivery', // the channels are chosen at delivery (notify.channels) and recorded per delivery
      audience: m.audience,
      recipient: m.recipient,
      kind: m.kind,
      body: m.body,
      link_path: m.linkPath ?? null,
      created_at: m.at,
    })
    .onConflict('message_key')
    .ignore();
  const { id } = await db('outbox_messages').where({ message_key: m.messageKey }).first('id');
  await startDelivery(id);
  return id;
}

/**
 * The delivery workflow on this activity's task queue (the main one), through the worker's own client. Its id
 * is the message's, and a closed run is never started again: a message is delivered by one workflow.
 */
async function startDelivery(messageId: string): Promise<void> {
  const ctx = Context.current();
  try {
    await ctx.client.workflow.start('messageDeliveryWorkflow', {
      taskQueue: ctx.info.taskQueue,
      workflowId: messageDeliveryWorkflowId(messageId),
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      args: [{ messageId }],
    });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
}
