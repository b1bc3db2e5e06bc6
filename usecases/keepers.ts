// Custody of a seal (C1–C3, U1): the holder names its keepers, a keeper sets and changes the seal's
// protection password, and a forgotten password is reset only through an application approved by the
// district's police (a `cases` row of kind 'password_reset'; the officer's task and decision live in the
// lead's workflow, whose activity calls approvePasswordReset in activities/password-reset-link.ts). Every change is written to the seal's case timeline
// (`case_events`, keys 'custody:…') without ID numbers in clear and never with a password.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { passwordSetSignal } from '../workflows/seal-messages';
import { passwordResetWorkflow } from '../workflows/password-reset';
import { caseRecordSignal } from '../workflows/application-messages';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { personalData, type Place } from '../infra/crypto/personal-data';
import { hashPassword, needsRehash, verifyPassword } from '../infra/passwords';
import { parseName, parsePhone } from '../domain/application-intake';
import { conflict, DomainError, fieldRef, invalidField, notFound, requiredField, ruleViolation, ValidationCollector } from '../domain/errors';
import {
  assertPasswordPolicy,
  isLocked,
  maySign,
  normalisePassword,
  passwordExpiresAt,
  registerFailedAttempt,
  registerSuccessfulAttempt,
  reminderInstants,
  type MaySignResult,
  type PasswordContext,
} from '../domain/protection-password';
import { formatShanghai } from '../domain/calendar';
import { documentOfKey, identityFields, identityKey, maskIdentityKey, parseIdentityDocumentOf } from '../domain/identity-documents';
import { normaliseCodeInput } from '../domain/uscc';
import type { Actor } from '../domain/actor';
import { auditRead } from '../infra/audit/log';
import { activeKeeper, assertNotCancelled, loadSeal, logEvent, type KeeperRow, type SealScope } from '../infra/custody';
import { forbidden } from '../domain/refusals';
import { logger } from '../infra/observability/logger';

export interface KeeperDeps {
  db: Db;
  config: Pick<Config, 'durations'>;
  /** P1: keepers' ID numbers are stored encrypted and found by their keyed hash (keys in the HSM). */
  hsm?: Hsm;
}
type PdDeps = { db: Db; hsm?: Hsm };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const F = {
  name: fieldRef('name', '保管人姓名', "Keeper's name"),
  idNumber: fieldRef('id_number', '保管人身份证件号码', "Keeper's identity document number"),
  keeperId: fieldRef('keeper_id', '保管人', 'Keeper'),
  oldPassword: fieldRef('old_password', '原保护口令', 'Current protection password'),
  phone: fieldRef('phone', '保管人联系电话', "Keeper's phone"),
  reason: fieldRef('reason', '申请理由', 'Reason'),
} as const;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

// ---------- loading and scope (P3, M6) ----------

function assertHolderOf(actor: Actor, seal: SealScope) {
  if (actor.role !== 'holder' || actor.holderId !== seal.holder_id) {
    throw forbidden("Only the seal holder's staff may do this", '只有印章所属单位的人员可以办理');
  }
}

/** C1 reads: the holder, the seal's maker, officers of the holder's district and city-level supervisors. */
function assertCanSeeKeepers(actor: Actor, seal: SealScope) {
  const ok =
    actor.role === 'supervisor' ||
    (actor.role === 'holder' && actor.holderId === seal.holder_id) ||
    (actor.role === 'maker' && actor.makerId === seal.maker_id) ||
    (actor.role === 'officer' && actor.districtCode === seal.district_code);
  if (!ok) throw forbidden('This seal belongs to another holder, maker or district', '该印章不属于您的单位、制作单位或辖区');
}

export const keeperPlace = (keeperRowId: string): Place => ({ table: 'seal_keepers', column: 'id_number', row: keeperRowId });

async function requireKeeper(deps: PdDeps, sealId: string, idNumber: string): Promise<KeeperRow> {
  const keeper = await activeKeeper(deps.db, sealId, await personalData(deps).idLookupHash(idNumber));
  if (!keeper) throw ruleViolation('NOT_A_KEEPER', '不是此印章的保管人（C1）', 'is not a keeper of this seal (C1)', { field: F.idNumber });
  return keeper;
}

/** `idNumber` is the keeper's ID number in clear (the row holds it encrypted). */
const keeperView = (k: KeeperRow, idNumber: string) => ({ id: k.id, name: k.name, id_number_masked: maskIdentityKey(idNumber), added_at: k.added_at, removed_at: k.removed_at });

export const passwordContext = (seal: SealScope, keeperIdKey: string | undefined): PasswordContext => ({ keeperIdNumber: keeperIdKey ? documentOfKey(keeperIdKey).number : undefined, sealCode: seal.seal_code, holderUscc: seal.uscc });

const KEEPER_ID = identityFields('', '保管人', "Keeper's");

export function parseKeeperId(body: Json, now: Date): string {
  return identityKey(parseIdentityDocumentOf(body, '', KEEPER_ID, now));
}

// ---------- expiry ----------

/** The password's validity from configuration (durations.passwordExpiry, P90D). */
export function passwordExpiryFrom(deps: Pick<KeeperDeps, 'config'>, setAt: Date): Date {
  return passwordExpiresAt(setAt, deps.config.durations.passwordExpiry);
}

export interface PasswordStatus {
  seal_id: string;
  set: boolean;
  set_at: Date | null;
  expires_at: Date | null;
  expired: boolean;
  locked_until: Date | null;
  /** When keepers are to be reminded (14, 7, 1 days before expiry), future ones only. */
  reminders: { at: Date; days_before: number }[];
}

export async function passwordStatus(db: Db | Knex.Transaction, sealId: string, now: Date): Promise<PasswordStatus> {
  const pw = await db('protection_passwords').where({ seal_id: sealId }).first('set_at', 'expires_at', 'locked_until');
  if (!pw) return { seal_id: sealId, set: false, set_at: null, expires_at: null, expired: false, locked_until: null, reminders: [] };
  return {
    seal_id: sealId,
    set: true,
    set_at: pw.set_at,
    expires_at: pw.expires_at,
    expired: now >= pw.expires_at,
    locked_until: isLocked(pw.locked_until, now) ? pw.locked_until : null,
    reminders: reminderInstants(pw.expires_at, undefined, now).map((r) => ({ at: r.at, days_before: r.daysBefore })),
  };
}

// ---------- keepers (C1) ----------

/** Holder staff name a keeper of one of their seals: `{ name, id_number }`. */
export async function nameKeeper(deps: PdDeps, actor: Actor, sealId: string, body: unknown, now = new Date()) {
  const seal = await loadSeal(deps.db, sealId);
  assertHolderOf(actor, seal);
  assertNotCancelled(seal);
  const b = obj(body);
  const v = new ValidationCollector();
  const name = v.check(() => parseName(b.name, F.name, 50));
  const idNumber = v.check(() => parseKeeperId(b, now));
  v.throwIfAny();
  const keeperRowId = randomUUID();
  const id = await personalData(deps).protectId(idNumber!, keeperPlace(keeperRowId));
  const row: KeeperRow = { id: keeperRowId, seal_id: seal.id, name: name!, id_number: id.enc, id_number_hmac: id.hmac, added_at: now, removed_at: null };
  try {
    await deps.db.transaction(async (trx) => {
      await trx('seal_keepers').insert({ ...row, added_by: actor.userId });
      await logEvent(trx, seal.case_id, 'keeper_named', { seal_id: seal.id, keeper_id: row.id, name: row.name, id_number_masked: maskIdentityKey(idNumber!) }, actor.userId, now);
    });
  } catch (e) {
    if ((e as { constraint?: string }).constraint === 'seal_keepers_active') {
      throw invalidField(F.idNumber, '此人已是该印章的保管人', 'this person is already a keeper of this seal', { code: 'KEEPER_EXISTS', httpStatus: 409 });
    }
    throw e;
  }
  return keeperView(row, idNumber!);
}

/**
 * Holder staff remove a keeper: `{ id_number }` or `{ keeper_id }` (in the body, so that ID numbers stay out
 * of URLs and access logs). The removed keeper knows the password (C2: known only to the keepers), so a
 * password set for the seal expires at once: the remaining keepers change it before the seal signs again.
 */
export async function removeKeeper(deps: PdDeps, actor: Actor, sealId: string, body: unknown, now = new Date()) {
  const seal = await loadSeal(deps.db, sealId);
  assertHolderOf(actor, seal);
  const b = obj(body);
  let where: { id: string } | { id_number_hmac: string };
  if (b.keeper_id !== undefined && b.keeper_id !== null && b.keeper_id !== '') {
    if (typeof b.keeper_id !== 'string' || !UUID.test(b.keeper_id)) throw invalidField(F.keeperId, '不是有效的编号', 'is not a valid id');
    where = { id: b.keeper_id };
  } else if (b.id_number !== undefined && b.id_number !== null && b.id_number !== '') {
    where = { id_number_hmac: await personalData(deps).idLookupHash(parseKeeperId(b, now)) };
  } else {
    throw requiredField(F.idNumber);
  }
  const pd = personalData(deps);
  return deps.db.transaction(async (trx) => {
    const keeper: KeeperRow | undefined = await trx('seal_keepers').where({ seal_id: seal.id, ...where }).whereNull('removed_at').forUpdate().first();
    if (!keeper) throw notFound('KEEPER_NOT_FOUND', '保管人不存在', 'Keeper not found');
    const idNumber = await pd.decrypt(keeper.id_number, keeperPlace(keeper.id));
    await trx('seal_keepers').where({ id: keeper.id }).update({ removed_at: now });
    const expired = await trx('protection_passwords').where({ seal_id: seal.id }).where('expires_at', '>', now).update({ expires_at: now });
    await logEvent(trx, seal.case_id, 'keeper_removed', { seal_id: seal.id, keeper_id: keeper.id, name: keeper.name, id_number_masked: maskIdentityKey(idNumber), password_expired: expired > 0 }, actor.userId, now);
    return { ...keeperView({ ...keeper, removed_at: now }, idNumber), password_expired: expired > 0 };
  });
}

/** The seal's current keepers (ID numbers masked) and the state of its protection password. */
export async function listKeepers(deps: PdDeps, actor: Actor, sealId: string, now = new Date()) {
  const seal = await loadSeal(deps.db, sealId);
  assertCanSeeKeepers(actor, seal);
  await auditRead(deps.db, actor, { action: 'keeper.list', targetType: 'seal', targetId: seal.id, caseId: seal.case_id }); // M6 P1
  const rows: KeeperRow[] = await deps.db('seal_keepers').where({ seal_id: seal.id }).whereNull('removed_at').orderBy('added_at');
  const pd = personalData(deps);
  const keepers = await Promise.all(rows.map(async (k) => keeperView(k, await pd.decrypt(k.id_number, keeperPlace(k.id)))));
  return { seal_id: seal.id, seal_status: seal.status, keepers, password: await passwordStatus(deps.db, seal.id, now) };
}

// ---------- the protection password (C2) ----------

/**
 * A keeper sets the seal's first protection password, at collection (`{ id_number, password }`): by holder
 * staff or at the seal's maker. Refused once a password exists (change it, or apply for a reset).
 */
export async function setInitialPassword(deps: KeeperDeps, actor: Actor, sealId: string, body: unknown, now = new Date()) {
  const seal = await loadSeal(deps.db, sealId);
  const ok = (actor.role === 'holder' && actor.holderId === seal.holder_id) || (actor.role === 'maker' && actor.makerId === seal.maker_id);
  if (!ok) throw forbidden("Only the holder's staff or the seal's maker may do this", '只有印章所属单位或其制作单位可以办理');
  assertNotCancelled(seal);
  const b = obj(body);
  const v = new ValidationCollector();
  const idNumber = v.check(() => parseKeeperId(b, now));
  const password = v.check(() => assertPasswordPolicy(b.password, passwordContext(seal, idNumber)));
  v.throwIfAny();
  const keeper = await requireKeeper(deps, seal.id, idNumber!);
  const exists = () => conflict('PASSWORD_ALREADY_SET', '此印章已设置保护口令；请用原口令修改，或申请重置（C3）', 'This seal already has a protection password; change it with the current one, or apply for a reset (C3)');
  if (await deps.db('protection_passwords').where({ seal_id: seal.id }).first('seal_id')) throw exists();
  const hash = await hashPassword(password!);
  await deps.db.transaction(async (trx) => {
    const inserted = await trx('protection_passwords')
      .insert({ seal_id: seal.id, hash, set_by_keeper_id: keeper.id, set_at: now, expires_at: passwordExpiryFrom(deps, now), failed_attempts: 0, locked_until: null })
      .onConflict('seal_id')
      .ignore()
      .returning('seal_id');
    if (inserted.length === 0) throw exists();
    await logEvent(trx, seal.case_id, 'protection_password_set', { seal_id: seal.id, keeper_id: keeper.id }, actor.userId, now);
  });
  return passwordStatus(deps.db, seal.id, now);
}

interface PasswordRow {
  seal_id: string;
  hash: string;
  expires_at: Date;
  failed_attempts: number;
  locked_until: Date | null;
}

/** Counts a wrong password on a locked row (inside the caller's transaction); returns the new state. */
async function recordFailure(trx: Knex.Transaction, pw: PasswordRow, now: Date) {
  const next = registerFailedAttempt({ failedAttempts: pw.failed_attempts, lockedUntil: pw.locked_until }, now);
  await trx('protection_passwords').where({ seal_id: pw.seal_id }).update({ failed_attempts: next.failedAttempts, locked_until: next.lockedUntil });
  return next;
}

function lockedError(lockedUntil: Date) {
  const until = formatShanghai(lockedUntil);
  return new DomainError({
    code: 'PASSWORD_LOCKED',
    messageZh: `保护口令连续输错次数过多，已锁定至 ${until}`,
    messageEn: `Too many wrong protection passwords; locked until ${until}`,
    httpStatus: 423,
    details: { locked_until: lockedUntil.toISOString() },
  });
}

/**
 * A keeper changes the password with the current one (`{ id_number, old_password, password }`), also after
 * it expired. A wrong current password counts towards the lockout; the new one must differ from it.
 */
export async function changePassword(deps: KeeperDeps, actor: Actor, sealId: string, body: unknown, now = new Date()) {
  const seal = await loadSeal(deps.db, sealId);
  assertHolderOf(actor, seal);
  assertNotCancelled(seal);
  const b = obj(body);
  const v = new ValidationCollector();
  const idNumber = v.check(() => parseKeeperId(b, now));
  if (typeof b.old_password !== 'string' || b.old_password === '') v.add(requiredField(F.oldPassword));
  const password = v.check(() => assertPasswordPolicy(b.password, passwordContext(seal, idNumber)));
  v.throwIfAny();
  const keeper = await requireKeeper(deps, seal.id, idNumber!);
  const newHash = await hashPassword(password!);

  const outcome = await deps.db.transaction(async (trx) => {
    const pw: PasswordRow | undefined = await trx('protection_passwords').where({ seal_id: seal.id }).forUpdate().first();
    if (!pw) return { kind: 'no_password' as const };
    if (isLocked(pw.locked_until, now)) return { kind: 'locked' as const, until: pw.locked_until! };
    if (!(await verifyPassword(pw.hash, b.old_password as string))) return { kind: 'wrong' as const, next: await recordFailure(trx, pw, now) };
    if (normalisePassword(b.old_password as string) === password) {
      await trx('protection_passwords').where({ seal_id: seal.id }).update(registerSuccessfulAttemptRow());
      return { kind: 'same' as const };
    }
    await trx('protection_passwords')
      .where({ seal_id: seal.id })
      .update({ hash: newHash, set_by_keeper_id: keeper.id, set_at: now, expires_at: passwordExpiryFrom(deps, now), ...registerSuccessfulAttemptRow() });
    await logEvent(trx, seal.case_id, 'protection_password_changed', { seal_id: seal.id, keeper_id: keeper.id }, actor.userId, now);
    return { kind: 'changed' as const };
  });
  switch (outcome.kind) {
    case 'no_password':
      throw conflict('NO_PASSWORD', '此印章尚未设置保护口令，请先设置', 'This seal has no protection password yet; set one first');
    case 'locked':
      throw lockedError(outcome.until);
    case 'wrong':
      if (outcome.next.lockedNow) throw lockedError(outcome.next.lockedUntil!);
      throw invalidField(F.oldPassword, `不正确（再输错${outcome.next.attemptsLeft}次将被锁定）`, `is wrong (${outcome.next.attemptsLeft} more wrong attempts lock it)`, {
        code: 'WRONG_PASSWORD',
        details: { attempts_left: outcome.next.attemptsLeft },
      });
    case 'same':
      throw invalidField(fieldRef('password', '保护口令', 'Protection password'), '新口令不能与原口令相同', 'must differ from the current password', { code: 'PASSWORD_REUSED' });
    case 'changed':
      return passwordStatus(deps.db, seal.id, now);
  }
}

export function registerSuccessfulAttemptRow() {
  const s = registerSuccessfulAttempt();
  return { failed_attempts: s.failedAttempts, locked_until: s.lockedUntil };
}

export type SignCheck = MaySignResult | { allowed: false; reason: 'wrong_password'; zh: string; en: string; attemptsLeft: number };

/**
 * The internal check before a signature (C1, C2, U1): is `keeperIdNumber` a current keeper of a live seal
 * and is `password` its protection password? The state is judged first (a locked password is not checked);
 * then the password is verified under a row lock, so concurrent guesses are counted one by one: a failure
 * counts towards the lockout, a success clears the counter. An expired password is reported only to
 * someone who knows it.
 */
export async function checkMaySign(deps: PdDeps, sealId: string, keeperIdNumber: string, password: string, now: Date = new Date()): Promise<SignCheck> {
  if (!UUID.test(sealId)) throw notFound('SEAL_NOT_FOUND', '印章不存在', 'Seal not found');
  const idNumber = typeof keeperIdNumber === 'string' ? normaliseCodeInput(keeperIdNumber) : '';
  const idHash = idNumber ? await personalData(deps).idLookupHash(idNumber) : '';
  return deps.db.transaction(async (trx) => {
    const seal = await trx('seals').where({ id: sealId }).first('id', 'status');
    if (!seal) throw notFound('SEAL_NOT_FOUND', '印章不存在', 'Seal not found');
    const keeper = idHash ? await activeKeeper(trx, sealId, idHash) : undefined;
    const pw: PasswordRow | undefined = await trx('protection_passwords').where({ seal_id: sealId }).forUpdate().first();
    const state = (p: { expires_at: Date; locked_until: Date | null }) => ({ expiresAt: p.expires_at, lockedUntil: p.locked_until });
    const judged = maySign({ sealStatus: seal.status, isKeeper: !!keeper, password: pw ? state(pw) : null, now });
    if (!judged.allowed && judged.reason !== 'password_expired') return judged;
    if (!(await verifyPassword(pw!.hash, password))) {
      const next = await recordFailure(trx, pw!, now);
      if (next.lockedNow) return maySign({ sealStatus: seal.status, isKeeper: true, password: { expiresAt: pw!.expires_at, lockedUntil: next.lockedUntil }, now });
      return {
        allowed: false as const,
        reason: 'wrong_password' as const,
        zh: `保护口令不正确（再输错${next.attemptsLeft}次将被锁定）`,
        en: `Wrong protection password (${next.attemptsLeft} more wrong attempts lock it)`,
        attemptsLeft: next.attemptsLeft,
      };
    }
    const patch: Json = pw!.failed_attempts !== 0 || pw!.locked_until !== null ? registerSuccessfulAttemptRow() : {};
    if (needsRehash(pw!.hash)) patch.hash = await hashPassword(password);
    if (Object.keys(patch).length > 0) await trx('protection_passwords').where({ seal_id: sealId }).update(patch);
    return judged;
  });
}

// ---------- reset through public security (C3) ----------

/**
 * Holder staff apply for a reset for one of the seal's keepers (`{ id_number, phone, reason }`): a case of
 * kind 'password_reset' in the holder's district, with the keeper as the handler who appears at the police
 * office. The officer's task and decision are the workflow's; approval calls approvePasswordReset (activities/password-reset-link.ts).
 */
export async function requestPasswordReset(deps: PdDeps & { temporal: Client; config: Config }, actor: Actor, sealId: string, body: unknown, now = new Date()) {
  const seal = await loadSeal(deps.db, sealId);
  assertHolderOf(actor, seal);
  assertNotCancelled(seal);
  const b = obj(body);
  const v = new ValidationCollector();
  const idNumber = v.check(() => parseKeeperId(b, now));
  const phone = v.check(() => parsePhone(b.phone, F.phone));
  const reason = v.check(() => parseName(b.reason, F.reason, 500));
  v.throwIfAny();
  const keeper = await requireKeeper(deps, seal.id, idNumber!);
  if (!(await deps.db('protection_passwords').where({ seal_id: seal.id }).first('seal_id'))) {
    throw conflict('NO_PASSWORD', '此印章尚未设置保护口令，无需重置，请直接设置', 'This seal has no protection password; set one instead of resetting');
  }
  const caseId = randomUUID();
  const pd = personalData(deps);
  // P1: each value is bound to its row, so the keeper's ID number is encrypted afresh for the new case.
  const [phoneEnc, idEnc] = await Promise.all([pd.encrypt(phone!, { table: 'cases', column: 'handler_phone', row: caseId }), pd.encrypt(idNumber!, { table: 'cases', column: 'handler_id_number', row: caseId })]);
  // Workflow first (10.5): the case's workflow exists before its row, so an outage stores nothing (503) and no
  // reset case is ever left without the officer's task; it waits for the row (workflows/case-record.ts).
  const workflow = await startPasswordResetCase(deps, caseId, seal.district_code, { startedBeforeRows: true });
  const tell = (stored: boolean) => workflow.signal(caseRecordSignal, { stored }).catch((e: Error) => logger.warn({ caseId }, `the workflow will look for its row itself (${e.message})`));
  await deps.db.transaction(async (trx) => {
    await trx('cases').insert({
      id: caseId,
      kind: 'password_reset',
      subject_seal_id: seal.id,
      request_reason: reason,
      maker_id: seal.maker_id,
      holder_id: seal.holder_id,
      district_code: seal.district_code, // P3: the district of the holder's registered address
      status: 'submitted',
      language: seal.language,
      handler_name: keeper.name,
      handler_id_number: idEnc,
      handler_id_number_hmac: keeper.id_number_hmac,
      handler_phone: phoneEnc,
      created_by: actor.userId,
      created_at: now,
      updated_at: now,
    });
    const data = { kind: 'password_reset', seal_id: seal.id, keeper_id: keeper.id, id_number_masked: maskIdentityKey(idNumber!) };
    await trx('case_events').insert({ case_id: caseId, event_key: '0:requested', type: 'requested', data: JSON.stringify(data), actor_id: actor.userId, at: now });
    await logEvent(trx, seal.case_id, 'protection_password_reset_requested', { ...data, reset_case_id: caseId }, actor.userId, now);
  }).catch(async (e: unknown) => {
    await tell(false);
    throw e;
  });
  await tell(true);
  return { case_id: caseId, kind: 'password_reset', status: 'submitted', district_code: seal.district_code, seal_id: seal.id, keeper: keeperView(keeper, idNumber!) };
}

// The one-time reset page (the keeper proves identity with the ID number and an SMS code): usecases/password-reset-page.ts.

// ---------- the seal's workflow (C2 reminders, C3 approval) ----------

/** The seal's workflow times its expiry reminders from the new expiry. A seal without one (not live) has none to time. */
export async function notifyPasswordSet(temporal: Client, sealId: string, expiresAt: Date | string | null | undefined): Promise<void> {
  if (!expiresAt) return;
  await temporal.workflow
    .getHandle(`seal:${sealId}`)
    .signal(passwordSetSignal, { expiresAt: new Date(expiresAt).toISOString() })
    .catch((e: Error) => {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    });
}

/** C3: the reset application becomes a task for the officer of the seal's district (started, or found: same id). */
export async function startPasswordResetCase(deps: { temporal: Client; config: Config }, caseId: string, districtCode: string, opts: { startedBeforeRows?: boolean } = {}) {
  return deps.temporal.workflow.start(passwordResetWorkflow, {
    taskQueue: deps.config.temporal.taskQueues.main,
    workflowId: `change:${caseId}`,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    args: [{ caseId, districtCode, ...opts }],
  });
}
