// M8/P1: premises video is stored encrypted (the envelope of infra/crypto/personal-data.ts, bound to the
// segment), so the store holds ciphertext under its own hash: `blob_sha256`. `sha256` stays the hash of the
// clear video (what the maker declared and a police export carries). Null: a segment stored in clear before.
// An export names the police case it is for (`case_reference` in the access log).
import type { Knex } from 'knex';

const GUARD = (cols: string) => `
    create or replace function video_segments_guard() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        raise exception 'M8: video segments are never deleted; the retention workflow purges the bytes and keeps the row as a tombstone' using errcode = 'P0001';
      end if;
      if (${cols.split(', ').map((c) => `new.${c}`).join(', ')})
         is distinct from (${cols.split(', ').map((c) => `old.${c}`).join(', ')}) then
        raise exception 'M8: a video segment is never altered (segment %)', old.id using errcode = 'P0001';
      end if;
      if old.retain_until is not null and new.retain_until is distinct from old.retain_until then
        raise exception 'M8: the retention date of segment % is fixed once set', old.id using errcode = 'P0001';
      end if;
      if old.status = 'purged' and new is distinct from old then
        raise exception 'M8: segment % is purged; its tombstone is not changed', old.id using errcode = 'P0001';
      end if;
      if new.status = 'purged' and old.status <> 'purged' then
        if new.retain_until is null or new.purged_at < new.retain_until then
          raise exception 'M8: segment % is within its retention period (until %)', old.id, new.retain_until using errcode = 'P0001';
        end if;
        if exists (select 1 from video_legal_holds h where h.segment_id = old.id and h.lifted_at is null) then
          raise exception 'M8: segment % is under a legal hold', old.id using errcode = 'P0001';
        end if;
      end if;
      return new;
    end $$`;
const OLD_COLS = 'id, maker_id, district_code, camera_id, recorded_start, recorded_end, sha256, size, content_type, original_name, uploaded_by, stored_at';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('video_segments', (t) => {
    // The store holds the ciphertext: it is the blob the segment references, the clear hash is not one.
    t.dropForeign(['sha256']);
    t.string('blob_sha256', 64).references('blobs.sha256');
    t.index(['blob_sha256']);
  });
  await knex.schema.alterTable('video_access_log', (t) => {
    t.string('case_reference', 100);
  });
  await knex.raw(GUARD(`${OLD_COLS}, blob_sha256`));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(GUARD(OLD_COLS));
  await knex.schema.alterTable('video_access_log', (t) => t.dropColumn('case_reference'));
  await knex.schema.alterTable('video_segments', (t) => {
    t.dropColumn('blob_sha256');
    t.foreign('sha256').references('blobs.sha256');
  });
}
