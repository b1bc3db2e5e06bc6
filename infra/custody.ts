// PostgreSQL rows of a seal's custody (C1–C3): the seal's scope, its keepers, its timeline and the one-time
// reset token. Shared by the custody use-cases (usecases/custody.ts and its neighbours) and the reset link's activity
// (activities/password-reset-link.ts), which must not import a use-case.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from './db';
import { conflict, notFound } from '../domain/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Json = Record<string, unknown>;

export interface SealScope {
  id: string;
  status: string;
  seal_code: string | null;
  case_id: string;
  holder_id: string;
  uscc: string;
  district_code: string; // the holder's registered district (P3)
  maker_id: string;
  language: string;
}

export async function loadSeal(db: Db | Knex.Transaction, sealId: string): Promise<SealScope> {
  if (!UUID.test(sealId)) throw notFound('SEAL_NOT_FOUND', '印章不存在', 'Seal not found');
  const seal = await db('seals as s')
    .join('cases as c', 'c.id', 's.case_id')
    .join('holders as h', 'h.id', 's.holder_id')
    .where('s.id', sealId)
    .first('s.id', 's.status', 's.seal_code', 's.case_id', 's.holder_id', 'h.uscc', 'h.district_code', 'c.maker_id', 'c.language');
  if (!seal) throw notFound('SEAL_NOT_FOUND', '印章不存在', 'Seal not found');
  return seal;
}

export function assertNotCancelled(seal: SealScope) {
  if (seal.status === 'cancelled') throw conflict('SEAL_CANCELLED', '印章已注销，不能办理', 'The seal is cancelled; nothing more can be done with it');
}

export interface KeeperRow {
  id: string;
  seal_id: string;
  name: string;
  id_number: string; // encrypted (P1)
  id_number_hmac: string;
  added_at: Date;
  removed_at: Date | null;
}

/** By the keyed hash of the ID number (the stored ID number is encrypted). */
export async function activeKeeper(db: Db | Knex.Transaction, sealId: string, idHash: string): Promise<KeeperRow | undefined> {
  return db('seal_keepers').where({ seal_id: sealId, id_number_hmac: idHash }).whereNull('removed_at').first();
}

/** P1: every change on the seal's timeline, with ID numbers masked. */
export async function logEvent(db: Db | Knex.Transaction, caseId: string, type: string, data: Json, actorId: string | null, at: Date) {
  await db('case_events').insert({ case_id: caseId, event_key: `custody:${randomUUID()}`, type, data: JSON.stringify(data), actor_id: actorId, at });
}

export const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** A one-time reset token and its SHA-256 (the only form of it that is stored or passed to a workflow). */
export function newResetToken(): { token: string; sha256: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, sha256: sha256Hex(token) };
}
