// Activities of a seal's life after issue: its status in PostgreSQL (database queue) and the CRL that
// publishes it (HSM queue: signed by the issuing CA key).
import type { Db } from '../infra/db';
import type { AlgorithmSuite } from '../infra/config';
import { Sm2Module } from '../infra/hsm/sm2-module';
import { generateSm2Crl } from '../infra/gm/sm2-crl';
import { postMessage } from './outbox';
import { approvePasswordReset } from './password-reset-link';
import { loadConfig, type Config } from '../infra/config';
import { formatShanghai } from '../domain/calendar';
import type { Hsm } from '../infra/hsm/hsm';
import { generateCrl } from '../infra/pki/crl';
import type { RevocationReason, SealLifeStatus } from '../workflows/seal-messages';

export function createSealLifeDbActivities(db: Db) {
  return {
    /**
     * Suspension puts the certificate on hold; resumption lifts it; stopping revokes it for good (M13), with
     * the first revocation's time: a seal stopped while on hold is revoked from the hold's start, since it
     * has not been valid since then. A keyCompromise report replaces an earlier reason and adds its
     * invalidity date, but keeps the time.
     */
    async setSealLifeStatus({ sealId, status, at, revocationReason, invalidityDate }: { sealId: string; status: Exclude<SealLifeStatus, 'cancelled'>; at: string; revocationReason?: RevocationReason; invalidityDate?: string }) {
      const compromise = revocationReason === 'keyCompromise';
      const patch =
        status === 'suspended'
          ? { status, hold_since: db.raw('coalesce(hold_since, ?::timestamptz)', [at]) }
          : status === 'active'
            ? { status, hold_since: null }
            : {
                status,
                hold_since: null,
                stopped_at: db.raw('coalesce(stopped_at, ?::timestamptz)', [at]),
                revoked_at: db.raw('coalesce(revoked_at, hold_since, ?::timestamptz)', [at]),
                revocation_reason: compromise ? 'keyCompromise' : db.raw('coalesce(revocation_reason, ?)', [revocationReason ?? 'cessationOfOperation']),
                ...(compromise ? { invalidity_date: db.raw('coalesce(invalidity_date, ?::timestamptz)', [invalidityDate ?? at]) } : {}),
              };
      await db('seals').where({ id: sealId }).whereNot({ status: 'cancelled' }).update(patch);
    },
  };
}

export function createSealLifeHsmActivities(deps: { db: Db; hsm: Hsm; crlNextUpdateHours: number; policy?: { algorithmSuite?: AlgorithmSuite } }) {
  const gm = (deps.policy?.algorithmSuite ?? 'both') !== 'intl';
  return {
    /**
     * A new CRL (next number) from the current state of every seal certificate; with the SM2 suite also the
     * SM2 issuing CA's, listing the same seals' SM2 certificates (a seal has one status).
     */
    async regenerateCrl(_: Record<string, never>): Promise<{ crlNumber: string }> {
      if (gm) await generateSm2Crl(new Sm2Module(deps.hsm), deps.db, { nextUpdateHours: deps.crlNextUpdateHours });
      const crl = await generateCrl(deps.hsm, deps.db, { nextUpdateHours: deps.crlNextUpdateHours });
      return { crlNumber: String(crl.crlNumber) };
    },
  };
}

/** C2: reminders before the protection password expires, and the notice when it has, to the holder's keepers. */
export function createPasswordNoticeActivities(db: Db) {
  return {
    async sendPasswordNotice(n: { sealId: string; daysBefore: number; expiresAt: string; at: string }) {
      const seal = await db('seals').where({ id: n.sealId }).first('holder_id', 'seal_code');
      const expired = n.daysBefore === 0;
      const body = expired
        ? `印章 ${seal.seal_code} 的保护口令已于 ${n.expiresAt} 过期，修改前不能签章。/ The protection password of seal ${seal.seal_code} expired at ${n.expiresAt}; it cannot sign until the password is changed.`
        : `印章 ${seal.seal_code} 的保护口令将于 ${n.daysBefore} 天后（${n.expiresAt}）过期，请及时修改。/ The protection password of seal ${seal.seal_code} expires in ${n.daysBefore} day(s) (${n.expiresAt}); please change it.`;
      await postMessage(db, {
        messageKey: `${n.sealId}:password:${n.expiresAt}:${n.daysBefore}`,
        sealId: n.sealId,
        audience: 'holder',
        recipient: seal.holder_id,
        kind: expired ? 'password_expired' : 'password_expiry_reminder',
        body,
        at: n.at,
        linkPath: `/seals/${n.sealId}`,
      });
    },

    /** C2 lockout: the seal's workflow ends a lock when its timer fires. Clears only that lock, so it is idempotent. */
    async liftPasswordLock({ sealId, lockedUntil }: { sealId: string; lockedUntil: string }) {
      await db('protection_passwords').where({ seal_id: sealId, locked_until: lockedUntil }).update({ locked_until: null });
    },
  };
}

/**
 * C3: after approval, the case's grant (activities/password-reset-link.ts) and the message to the holder's
 * accounts. The message holds no link token: the e-mail or SMS being sent mints one (activities/
 * message-delivery.ts), the inbox's link mints one when the holder opens it (web/pages/password-reset.ts).
 * `tokenSha256`, which decisions carried while the officer handed links over, is no longer used.
 */
export function createPasswordResetActivities(db: Db, config: Pick<Config, 'durations'> = loadConfig()) {
  return {
    async issuePasswordResetLink({ caseId }: { caseId: string; tokenSha256?: string | null }): Promise<void> {
      const c = await db('cases').where({ id: caseId }).first('subject_seal_id');
      const seal = await db('seals').where({ id: c.subject_seal_id }).first('holder_id', 'seal_code');
      const { expiresAt } = await approvePasswordReset(db, caseId, new Date(), config.durations.resetLinkValidity);
      const until = formatShanghai(expiresAt).slice(0, 16).replace('T', ' ');
      const body =
        `印章 ${seal.seal_code} 的保护口令重置已获批准：请将一次性链接转交保管人，保管人凭身份证件号码和发送到登记手机的短信验证码设置新口令，链接在 ${until}（北京时间）前有效 / ` +
        `Reset approved for seal ${seal.seal_code}: pass the one-time link to the keeper, who proves identity with the ID number and a code sent by SMS to the registered phone, then sets a new password; the link is valid until ${until} (Beijing time)`;
      await postMessage(db, { messageKey: `${caseId}:password_reset_link`, sealId: c.subject_seal_id, caseId, audience: 'holder', recipient: seal.holder_id, kind: 'password_reset_link', body, linkPath: `/password-reset/cases/${caseId}`, at: new Date() });
    },
  };
}
