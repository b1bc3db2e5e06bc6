// One workflow per outbox message (id message:<message id>, started by activities/outbox.ts when the message is
// written). Per message rather than one long-running notifier: each message's retries and record live in
// their own short history (no continue-as-new, no queue inside a workflow), Temporal's workflow-id uniqueness
// is the first guard against a second delivery, and one unreachable server delays only its own messages.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { DbActivities } from '../activities';
import { ACTIVITY_POLICIES as P } from './activity-policies';

const db = proxyActivities<DbActivities>(P.dbStatement);
const send = proxyActivities<DbActivities>(P.messageSend);

export async function messageDeliveryWorkflow({ messageId }: { messageId: string }): Promise<{ sent: number; failed: number }> {
  const targets = await db.planMessageDelivery({ messageId });
  let failed = 0;
  // Channels and accounts in parallel: a slow SMS gateway does not hold back the inbox or the e-mail.
  await Promise.all(
    targets.map(async (target) => {
      try {
        await send.deliverMessage(target);
      } catch (e) {
        if (!(e instanceof ActivityFailure)) throw e;
        failed++;
        await db.recordDeliveryFailure({ target, error: e.cause?.message ?? e.message });
      }
    }),
  );
  await db.markMessageDelivered({ messageId, at: new Date().toISOString() });
  return { sent: targets.length - failed, failed };
}
