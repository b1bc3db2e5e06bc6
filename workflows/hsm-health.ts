// Readiness probe: proves an HSM worker is up, logged in to the token and able to sign.
import { proxyActivities } from '@temporalio/workflow';
import type { HsmActivities } from '../activities';

export async function hsmHealthWorkflow(input: { challenge: string; hsmTaskQueue: string }) {
  const hsm = proxyActivities<HsmActivities>({
    taskQueue: input.hsmTaskQueue,
    scheduleToCloseTimeout: '5 seconds',
    retry: { maximumAttempts: 1 },
  });
  return hsm.hsmStatus({ challenge: input.challenge });
}
