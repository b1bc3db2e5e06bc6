// Custody of a seal (C1–C3, U1), shared by its use-cases: loading a seal and checking the caller's scope, the
// keepers' personal data, the password's state; and C1 itself: the holder names and removes its keepers.
// The protection password (C2) is in protection-passwords.ts, its reset through the police (C3) in
// password-resets.ts; usecases/keeper-operations.ts is what the API and the pages call. Every change is written
// to the seal's case timeline (`case_events`, keys 'custody:…') without ID numbers in clear and never with a password.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { personalData, type Place } from '../infra/crypto/personal-data';
import { parseName } from '../domain/application-intake';
import { fieldRef, invalidField, notFound, requiredField, ruleViolation, ValidationCollector } from '../domain/errors';
import { isLocked, passwordExpiresAt, reminderInstants, type PasswordContext } from '../domain/protection-password';
import { documentOfKey, identityFields, identityKey, maskIdentityKey, parseIdentityDocumentOf } from '../domain/identity-documents';
import type { Actor } from '../domain/actor';
import { auditRead } from '../infra/audit/log';
import { activeKeeper, assertNotCancelled, loadSeal, logEvent, type KeeperRow, type SealScope } from '../infra/custody';
import { forbidden } from '../domain/refusals';

export interface KeeperDeps {
  db: Db;
  config: Pick<Config, 'durations'>;
  /** P1: keepers' ID numbers are stored encrypted and found by their keyed hash (keys in the HSM). */
  hsm?: Hsm;
}
export type PdDeps = { db: Db; hsm?: Hsm };

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const F = {
  name: fieldRef('name', '保管人姓名', "Keeper's name"),
  idNumber: fieldRef('id_number', '保管人身份证件号码', "Keeper's identity document number"),
  keeperId: fieldRef('keeper_id', '保管人', 'Keeper'),
  oldPassword: fieldRef('old_password', '原保护口令', 'Current protection password'),
  phone: fieldRef('phone', '保管人联系电话', "Keeper's phone"),
  reason: fieldRef('reason', '申请理由', 'Reason'),
} as const;

export type Json = Record<string, unknown>;
export const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

// ---------- loading and scope (P3, M6) ----------

export function assertHolderOf(actor: Actor, seal: SealScope) {
  if (actor.role !== 'holder' || actor.holderId !== seal.holder_id) {
    throw forbidden("Only the seal holder's staff may do this", '只有印章所属单位的人员可以办理');
  }
}

/** C1 reads: the holder, the seal's maker, officers of the holder's district and city-level supervisors. */
export function assertCanSeeKeepers(actor: Actor, seal: SealScope) {
  const ok =
    actor.role === 'supervisor' ||
    (actor.role === 'holder' && actor.holderId === seal.holder_id) ||
    (actor.role === 'maker' && actor.makerId === seal.maker_id) ||
    (actor.role === 'officer' && actor.districtCode === seal.district_code);
  if (!ok) throw forbidden('This seal belongs to another holder, maker or district', '该印章不属于您的单位、制作单位或辖区');
}

export const keeperPlace = (keeperRowId: string): Place => ({ table: 'seal_keepers', column: 'id_number', row: keeperRowId });

export async function requireKeeper(deps: PdDeps, sealId: string, idNumber: string): Promise<KeeperRow> {
  const keeper = await activeKeeper(deps.db, sealId, await personalData(deps).idLookupHash(idNumber));
  if (!keeper) throw ruleViolation('NOT_A_KEEPER', '不是此印章的保管人（C1）', 'is not a keeper of this seal (C1)', { field: F.idNumber });
  return keeper;
}

/** `idNumber` is the keeper's ID number in clear (the row holds it encrypted). */
export const keeperView = (k: KeeperRow, idNumber: string) => ({ id: k.id, name: k.name, id_number_masked: maskIdentityKey(idNumber), added_at: k.added_at, removed_at: k.removed_at });

export const passwordContext = (seal: SealScope, keeperIdKey: string | undefined): PasswordContext => ({ keeperIdNumber: keeperIdKey ? documentOfKey(keeperIdKey).number : undefined, sealCode: seal.seal_code, holderUscc: seal.uscc });

export const KEEPER_ID = identityFields('', '保管人', "Keeper's");

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
