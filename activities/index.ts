// Activities grouped by the task queue that runs them: database work on the main queue, HSM work
// only on workers that hold a PKCS#11 session. Dependencies are injected so tests use the real ones.
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { createHsmStatus } from './hsm-status';
import type { PlatformSigningKey } from '../infra/pki/platform';
import { createStatementSigning, createStatementStore } from './platform-statements';

export function createDbActivities(deps: { db: Db }) {
  return { ...createStatementStore(deps.db) };
}

export function createHsmActivities(deps: { hsm: Hsm; platformKey: PlatformSigningKey }) {
  return { ...createStatementSigning(deps.hsm, deps.platformKey), ...createHsmStatus(deps.hsm, deps.platformKey) };
}

export type DbActivities = ReturnType<typeof createDbActivities>;
export type HsmActivities = ReturnType<typeof createHsmActivities>;
