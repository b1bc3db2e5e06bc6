// The cached CRLs of the listed platforms (I2): fetched over HTTP from the address on the trust list, kept
// only when signed by one of the platform's root certificates, refreshed by the Temporal Schedule
// (workflows/foreign-crl-refresh.ts) and on demand when the cached one is missing or past its nextUpdate.
// A failed fetch keeps the last good CRL and records the error.
import type { Db } from '../db';
import { readCrl } from './foreign';

/** A CRL is a few kilobytes; a platform's answer larger than this is refused. */
export const FOREIGN_CRL_MAX_BYTES = 2 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

export interface CachedCrl {
  revoked: Record<string, string>;
  thisUpdate: Date;
  nextUpdate: Date | null;
  fetchedAt: Date;
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > FOREIGN_CRL_MAX_BYTES) throw new Error(`the CRL is larger than ${FOREIGN_CRL_MAX_BYTES} bytes`);
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > FOREIGN_CRL_MAX_BYTES) throw new Error(`the CRL is larger than ${FOREIGN_CRL_MAX_BYTES} bytes`);
  return body;
}

/** Fetches one platform's CRL now and caches it; returns the cached CRL (the new one, or the last good one). Idempotent. */
export async function refreshPlatformCrl(db: Db, platformId: string, now = new Date()): Promise<{ crl: CachedCrl | null; error: string | null }> {
  const platform = await db('trusted_platforms').where({ id: platformId }).first('crl_url');
  if (!platform?.crl_url) return { crl: null, error: 'the platform has no CRL address' };
  const roots = (await db('trusted_platform_certificates').where({ platform_id: platformId }).select('der')).map((r) => Buffer.from(r.der));
  try {
    const der = await download(platform.crl_url);
    const crl = readCrl(der, roots);
    const row = { platform_id: platformId, url: platform.crl_url, der, revoked: JSON.stringify(crl.revoked), this_update: crl.thisUpdate, next_update: crl.nextUpdate, fetched_at: now, last_error: null };
    // Never replace a newer CRL by an older one (two refreshes racing, or a replayed answer).
    await db('foreign_crls').insert(row).onConflict('platform_id').merge().where('foreign_crls.this_update', '<=', crl.thisUpdate);
    return { crl: await cachedCrl(db, platformId), error: null };
  } catch (e) {
    const error = (e as Error).message.slice(0, 500);
    await db('foreign_crls').where({ platform_id: platformId }).update({ last_error: error });
    return { crl: await cachedCrl(db, platformId), error };
  }
}

export async function cachedCrl(db: Db, platformId: string): Promise<CachedCrl | null> {
  const row = await db('foreign_crls').where({ platform_id: platformId }).first('revoked', 'this_update', 'next_update', 'fetched_at');
  if (!row) return null;
  return { revoked: row.revoked, thisUpdate: new Date(row.this_update), nextUpdate: row.next_update ? new Date(row.next_update) : null, fetchedAt: new Date(row.fetched_at) };
}

/** The cached CRL if it is still current, else a fresh one; null when none can be had (status unknown). */
export async function currentCrl(db: Db, platformId: string, now = new Date()): Promise<CachedCrl | null> {
  const cached = await cachedCrl(db, platformId);
  if (cached && (!cached.nextUpdate || cached.nextUpdate > now)) return cached;
  const { crl } = await refreshPlatformCrl(db, platformId, now);
  return crl && (!crl.nextUpdate || crl.nextUpdate > now) ? crl : null;
}

/** Refreshes every listed platform's CRL that has an address (the Schedule's work). */
export async function refreshAllPlatformCrls(db: Db, now = new Date()): Promise<Array<{ platformId: string; error: string | null }>> {
  const platforms = await db('trusted_platforms').whereNot({ status: 'withdrawn' }).whereNotNull('crl_url').select('id');
  const out: Array<{ platformId: string; error: string | null }> = [];
  for (const p of platforms) out.push({ platformId: p.id, error: (await refreshPlatformCrl(db, p.id, now)).error });
  return out;
}
