// The OCSP responder caches certificate statuses and signed responses (RFC 5019). Any change to what a
// seal certificate's status is made of sends NOTIFY on the channel `ocsp_status` with the certificate
// serial as payload. PostgreSQL delivers it to each listening responder process after commit,
// asynchronously: until it arrives (milliseconds; bounded by the listener's heartbeat if the connection is
// silently lost, infra/pki/ocsp-cache.ts), a process may still serve the answer of before the change, even
// after the change was reported done. Inserts need no notice: the responder never caches a serial it did
// not find.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function seals_notify_ocsp_status() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        if old.certificate_serial is not null then perform pg_notify('ocsp_status', old.certificate_serial); end if;
        return old;
      end if;
      if old.certificate_serial is not null then perform pg_notify('ocsp_status', old.certificate_serial); end if;
      if new.certificate_serial is not null and new.certificate_serial is distinct from old.certificate_serial then
        perform pg_notify('ocsp_status', new.certificate_serial);
      end if;
      return new;
    end $$`);
  await knex.raw(`
    create trigger seals_ocsp_status_update after update on seals for each row
    when (old.status is distinct from new.status or old.hold_since is distinct from new.hold_since
       or old.revoked_at is distinct from new.revoked_at or old.revocation_reason is distinct from new.revocation_reason
       or old.certificate_serial is distinct from new.certificate_serial)
    execute function seals_notify_ocsp_status()`);
  await knex.raw('create trigger seals_ocsp_status_delete after delete on seals for each row execute function seals_notify_ocsp_status()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists seals_ocsp_status_delete on seals');
  await knex.raw('drop trigger if exists seals_ocsp_status_update on seals');
  await knex.raw('drop function if exists seals_notify_ocsp_status()');
}
