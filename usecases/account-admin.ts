// Issue 16 point 7: administrators create and disable accounts of every role, each bound to its scope as the
// users_scope constraint demands (a maker's staff to a licensed maker, an officer to a district, a holder's
// staff to a holder). A new account has no password: it gets a one-time set-password link, valid 72 hours.
//
// Delivery: an account's e-mail and phone (optional) receive messages, but messages are stored, so the link is
// never one of them. It is shown once, to the administrator who created the account (the answer
// to the creation), who hands it over; the database keeps only the SHA-256 of its token, never the token,
// so a copy of the database (or of an outbox) opens no account. A lost link is replaced by a new one.
// Every creation, disabling and use of a link is written to the audit trail (infra/audit/http.ts).
import { randomUUID } from 'node:crypto';
import type { Db } from '../infra/db';
import { hashPassword } from '../infra/passwords';
import { DomainError, fieldRef, invalidField, requiredField, ValidationCollector } from '../domain/errors';
import { getDistrict } from '../domain/districts';
import type { Actor, Role } from '../domain/actor';
import { forbidden, notFound } from '../domain/refusals';
import { assertMakerLicensed } from './licences';
import { assertLoginPasswordPolicy, newSecret, sha256Hex } from './web-accounts';

export const ROLES: readonly Role[] = ['maker', 'officer', 'supervisor', 'holder', 'admin'];
export const SETUP_LINK_TTL_MS = 72 * 3600_000;
const SETUP_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const F = {
  username: fieldRef('username', '用户名', 'Username'),
  displayName: fieldRef('display_name', '姓名', 'Name'),
  role: fieldRef('role', '角色', 'Role'),
  district: fieldRef('district_code', '所属行政区', 'District'),
  maker: fieldRef('maker_id', '印章制作单位', 'Seal maker'),
  holder: fieldRef('holder_id', '用章单位', 'Seal holder'),
  password: fieldRef('password', '密码', 'Password'),
  email: fieldRef('email', '电子邮箱', 'E-mail'),
  phone: fieldRef('phone', '手机号码', 'Mobile phone'),
} as const;

const adminOnly = (actor: Actor) => {
  if (actor.role !== 'admin') throw forbidden('Only an administrator manages accounts', '只有管理员可以管理账户');
};

export interface AccountView {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  district_code: string | null;
  maker_id: string | null;
  holder_id: string | null;
  email: string | null;
  has_password: boolean;
  disabled_at: Date | null;
  created_at: Date;
}

const COLUMNS = ['id', 'username', 'display_name', 'role', 'district_code', 'maker_id', 'holder_id', 'email', 'disabled_at', 'created_at', 'password_hash'];
const view = (u: Record<string, unknown>): AccountView => {
  const { password_hash, ...rest } = u;
  return { ...(rest as unknown as Omit<AccountView, 'has_password'>), has_password: password_hash !== null && password_hash !== undefined };
};

export async function listAccounts(db: Db, actor: Actor): Promise<AccountView[]> {
  adminOnly(actor);
  return (await db('users').orderBy('created_at', 'desc').limit(1000).select(COLUMNS)).map(view);
}

/** Creates an account bound to its scope, with a one-time set-password link (the path, shown once). */
export async function createAccount(db: Db, actor: Actor, body: unknown, now = new Date()): Promise<AccountView & { setup_link: string; setup_link_expires_at: Date }> {
  adminOnly(actor);
  const b = (body ?? {}) as Record<string, unknown>;
  const v = new ValidationCollector();
  const username = typeof b.username === 'string' ? b.username.normalize('NFC').trim().toLowerCase() : '';
  if (!username) v.add(requiredField(F.username));
  else if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(username)) v.add(invalidField(F.username, '应为 3–64 个小写字母、数字或 . _ -，以字母或数字开头', 'must be 3–64 lower-case letters, digits or . _ -, starting with a letter or digit'));
  const displayName = typeof b.display_name === 'string' ? b.display_name.trim() : '';
  if (!displayName) v.add(requiredField(F.displayName));
  else if ([...displayName].length > 50 || /[\p{Cc}<>]/u.test(displayName)) v.add(invalidField(F.displayName, '不超过 50 个字符，不含控制字符或尖括号', 'must be at most 50 characters, without control characters or angle brackets'));
  const role = b.role as Role;
  if (!ROLES.includes(role)) v.add(b.role === undefined ? requiredField(F.role) : invalidField(F.role, `应为 ${ROLES.join('、')} 之一`, `must be one of ${ROLES.join(', ')}`));
  const scope: { district_code: string | null; maker_id: string | null; holder_id: string | null } = { district_code: null, maker_id: null, holder_id: null };
  // Each role has exactly its own binding; a binding that does not belong to the role is refused, not dropped.
  const given = { district_code: b.district_code, maker_id: b.maker_id, holder_id: b.holder_id };
  const needs: Record<Role, keyof typeof given | null> = { officer: 'district_code', maker: 'maker_id', holder: 'holder_id', supervisor: null, admin: null, exchange: null };
  const refs = { district_code: F.district, maker_id: F.maker, holder_id: F.holder };
  if (ROLES.includes(role)) {
    for (const key of Object.keys(given) as Array<keyof typeof given>) {
      const value = given[key];
      const present = value !== undefined && value !== null && value !== '';
      if (key === needs[role]) {
        if (!present) v.add(requiredField(refs[key]));
        else if (key === 'district_code') {
          const d = v.check(() => getDistrict(value, F.district));
          if (d) scope.district_code = d.code;
        } else if (typeof value !== 'string' || !UUID.test(value)) v.add(invalidField(refs[key], '应为 UUID', 'must be a UUID'));
        else scope[key] = value;
      } else if (present) {
        v.add(invalidField(refs[key], `不适用于该角色（${role}）`, `does not apply to the role ${role}`));
      }
    }
  }
  // Where messages reach the account (workflows/message-delivery.ts): optional, checked when given.
  const contact: { email: string | null; phone: string | null } = { email: null, phone: null };
  if (b.email !== undefined && b.email !== null && b.email !== '') {
    if (typeof b.email !== 'string' || b.email.length > 254 || !/^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(b.email)) v.add(invalidField(F.email, '应为电子邮箱地址，如 name@example.cn', 'must be an e-mail address such as name@example.cn'));
    else contact.email = b.email.toLowerCase();
  }
  if (b.phone !== undefined && b.phone !== null && b.phone !== '') {
    if (typeof b.phone !== 'string' || !/^1[3-9]\d{9}$/.test(b.phone)) v.add(invalidField(F.phone, '应为 11 位手机号码', 'must be an 11-digit mainland mobile number'));
    else contact.phone = b.phone;
  }
  v.throwIfAny();
  if (scope.maker_id) {
    if (!(await db('makers').where({ id: scope.maker_id }).first('id'))) throw invalidField(F.maker, '不存在', 'does not exist', { httpStatus: 422, code: 'UNKNOWN_MAKER' });
    await assertMakerLicensed(db, scope.maker_id); // a maker's staff only for a licensed maker (M1)
  }
  if (scope.holder_id && !(await db('holders').where({ id: scope.holder_id }).first('id'))) throw invalidField(F.holder, '不存在', 'does not exist', { httpStatus: 422, code: 'UNKNOWN_HOLDER' });

  const token = newSecret();
  const expiresAt = new Date(now.getTime() + SETUP_LINK_TTL_MS);
  const id = randomUUID();
  try {
    await db.transaction(async (trx) => {
      await trx('users').insert({ id, username, display_name: displayName, role, ...scope, ...contact, created_at: now });
      await trx('account_setup_links').insert({ token_sha256: sha256Hex(token), user_id: id, created_by: actor.userId, created_at: now, expires_at: expiresAt });
    });
  } catch (e) {
    if ((e as { code?: string }).code === '23505') {
      throw invalidField(F.username, '已被使用', 'is already taken', { httpStatus: 409, code: 'USERNAME_TAKEN' });
    }
    throw e;
  }
  const account = view((await db('users').where({ id }).first(COLUMNS)) as Record<string, unknown>);
  return { ...account, setup_link: `/account-setup/${token}`, setup_link_expires_at: expiresAt };
}

/** The holder of a USCC, for the page's form (the API takes holder_id); unknown: refused naming the field. */
export async function holderIdByUscc(db: Db, uscc: unknown): Promise<string | undefined> {
  const field = fieldRef('holder_uscc', '用章单位统一社会信用代码', "Holder's unified social credit code");
  if (typeof uscc !== 'string' || !uscc.trim()) throw requiredField(field);
  const row = await db('holders').where({ uscc: uscc.trim().toUpperCase() }).first('id');
  if (!row) throw invalidField(field, '没有该统一社会信用代码的用章单位', 'no holder has this code', { httpStatus: 422, code: 'UNKNOWN_HOLDER' });
  return row.id as string;
}

/**
 * Disables an account: its API tokens, sessions, password and open setup links stop working at once. The
 * row stays (records and the audit trail name it). An administrator cannot disable their own account.
 */
export async function disableAccount(db: Db, actor: Actor, userId: string, now = new Date()): Promise<AccountView> {
  adminOnly(actor);
  if (!UUID.test(userId)) throw notFound('Account', '账户');
  if (userId === actor.userId) throw new DomainError({ code: 'CANNOT_DISABLE_SELF', httpStatus: 409, messageZh: '不能停用自己的账户', messageEn: 'You cannot disable your own account' });
  return db.transaction(async (trx) => {
    const u = await trx('users').where({ id: userId }).forUpdate().first('id', 'disabled_at');
    if (!u) throw notFound('Account', '账户');
    if (!u.disabled_at) {
      await trx('users').where({ id: userId }).update({ disabled_at: now, disabled_by: actor.userId });
      await trx('web_sessions').where({ user_id: userId }).delete();
      await trx('account_setup_links').where({ user_id: userId }).whereNull('used_at').update({ expires_at: now });
    }
    return view((await trx('users').where({ id: userId }).first(COLUMNS)) as Record<string, unknown>);
  });
}

const linkGone = () =>
  new DomainError({ code: 'SETUP_LINK_GONE', httpStatus: 410, messageZh: '该设置密码链接已使用或已过期，请联系管理员重新发放', messageEn: 'This set-password link has been used or has expired; ask your administrator for a new one' });

/** Whether a set-password link is usable (for the page that shows the form). */
export async function setupLinkAccount(db: Db, token: string, now = new Date()): Promise<{ username: string; display_name: string }> {
  if (!SETUP_TOKEN.test(token)) throw notFound('Link', '链接');
  const row = await db('account_setup_links as l').join('users as u', 'u.id', 'l.user_id').where('l.token_sha256', sha256Hex(token)).first('l.used_at', 'l.expires_at', 'u.username', 'u.display_name', 'u.disabled_at');
  if (!row) throw notFound('Link', '链接');
  if (row.used_at || new Date(row.expires_at) <= now || row.disabled_at) throw linkGone();
  return { username: row.username, display_name: row.display_name };
}

/** Sets the new account's password through its one-time link; the link is used up only by a password that passes the policy. */
export async function completeAccountSetup(db: Db, token: string, body: unknown, now = new Date()): Promise<{ username: string }> {
  if (!SETUP_TOKEN.test(token)) throw notFound('Link', '链接');
  const b = (body ?? {}) as Record<string, unknown>;
  return db.transaction(async (trx) => {
    const row = await trx('account_setup_links as l').join('users as u', 'u.id', 'l.user_id').where('l.token_sha256', sha256Hex(token)).forUpdate().first('l.token_sha256', 'l.used_at', 'l.expires_at', 'u.id', 'u.username', 'u.disabled_at');
    if (!row) throw notFound('Link', '链接');
    if (row.used_at || new Date(row.expires_at) <= now || row.disabled_at) throw linkGone();
    const password = assertLoginPasswordPolicy(b.password, row.username, F.password);
    await trx('users').where({ id: row.id }).update({ password_hash: await hashPassword(password), password_changed_at: now });
    await trx('account_setup_links').where({ token_sha256: row.token_sha256 }).update({ used_at: now });
    return { username: row.username as string };
  });
}
