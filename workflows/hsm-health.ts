// Readiness probe: proves an HSM worker is up, logged in to the token and able to sign.
import { proxyActivities } from '@temporalio/workflow';
import type { HsmActivities } from '../activities';
import { ACTIVITY_POLICIES as P, onQueue } from './activity-policies';

export async function hsmHealthWorkflow(input: { challenge: string; hsmTaskQueue: string }) {
  const hsm = proxyActivities<HsmActivities>(onQueue(input.hsmTaskQueue, P.hsmProbe));
  return hsm.hsmStatus({ challenge: input.challenge });
}
