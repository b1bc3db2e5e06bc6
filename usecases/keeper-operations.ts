// One use-case per custody operation (C1–C3), called alike by the JSON API (web/routes/keepers.ts) and the seal
// page (web/pages/seals.ts), which only parse the request and render the answer. Each operation is the rows it
// writes (custody.ts, protection-passwords.ts, password-resets.ts) and what the seal's workflow must hear of them: a new expiry to time its
// reminders from (C2), a removed keeper's knowledge expiring the password at once, a lock to lift (C2).
import type { Client } from '@temporalio/client';
import type { Config } from '../infra/config';
import type { Actor } from '../domain/actor';
import * as custody from './custody';
import * as passwords from './protection-passwords';
import * as resets from './password-resets';
import { timingLockout } from './password-lock';
import * as resetPage from './password-reset-page';

export type KeeperOperationDeps = custody.KeeperDeps & { temporal: Client };

/** C1: the holder names a keeper. */
export function nameKeeper(deps: custody.KeeperDeps, actor: Actor, sealId: string, body: unknown) {
  return custody.nameKeeper(deps, actor, sealId, body);
}

/** The seal's keepers and its password's state. */
export function listKeepers(deps: custody.KeeperDeps, actor: Actor, sealId: string) {
  return custody.listKeepers(deps, actor, sealId);
}

/** C1 C2: the holder removes a keeper; the password the keeper knew expires now, and the workflow hears so. */
export async function removeKeeper(deps: KeeperOperationDeps, actor: Actor, sealId: string, body: unknown) {
  const result = await custody.removeKeeper(deps, actor, sealId, body);
  await passwords.notifyPasswordSet(deps.temporal, sealId, new Date()); // the removed keeper knew it: expired now
  return result;
}

/** C2: a keeper sets the first protection password; the workflow times its expiry reminders. */
export async function setInitialPassword(deps: KeeperOperationDeps, actor: Actor, sealId: string, body: unknown) {
  const status = await passwords.setInitialPassword(deps, actor, sealId, body);
  await passwords.notifyPasswordSet(deps.temporal, sealId, status.expires_at);
  return status;
}

/** C2: a keeper changes the password; a lock that wrong passwords start is timed by the seal's workflow. */
export async function changePassword(deps: KeeperOperationDeps, actor: Actor, sealId: string, body: unknown) {
  const status = await timingLockout(deps, sealId, () => passwords.changePassword(deps, actor, sealId, body));
  await passwords.notifyPasswordSet(deps.temporal, sealId, status.expires_at);
  return status;
}

/** C3: the holder applies for a reset through the district's police (a case and its workflow). */
export function requestPasswordReset(deps: KeeperOperationDeps & { config: Config }, actor: Actor, sealId: string, body: unknown) {
  return resets.requestPasswordReset(deps, actor, sealId, body);
}

/** C3: the one-time reset page sends a code to the keeper's registered phone once the ID number is proven. */
export function sendResetCode(deps: KeeperOperationDeps & { config: Config }, token: string, body: unknown) {
  return resetPage.sendResetCode(deps, token, body);
}

/** C3: the keeper sets a new password with the one-time link and the SMS code; the seal's workflow restarts the expiry. */
export async function resetPasswordWithCode(deps: KeeperOperationDeps & { config: Config }, token: string, body: unknown) {
  const status = await resetPage.resetWithCode(deps, token, body);
  await passwords.notifyPasswordSet(deps.temporal, status.seal_id, status.expires_at);
  return status;
}
