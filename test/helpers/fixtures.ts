// Valid identities for tests: codes with correct GB 32100 / GB 11643 check characters, made up per run.
import { randomInt, randomUUID } from 'node:crypto';
import type { Db } from '../../infra/db';
import { computeUsccCheckCharacter, USCC_CHARSET } from '../../domain/uscc';
import { computeResidentIdCheckCharacter } from '../../domain/resident-id';

const ORG_CHARS = USCC_CHARSET.replace(/[^0-9A-HJ-NP-RTUW-Y]/g, '');

/** An enterprise USCC registered in the given Beijing district. */
export function makeUscc(district = '110108', category = '91'): string {
  let org = '';
  for (let i = 0; i < 9; i++) org += ORG_CHARS[randomInt(ORG_CHARS.length)];
  const first17 = `${category}${district}${org}`;
  return first17 + computeUsccCheckCharacter(first17);
}

export function makeResidentId(birth = '19850612', district = '110105'): string {
  const first17 = `${district}${birth}${String(randomInt(1000)).padStart(3, '0')}`;
  return first17 + computeResidentIdCheckCharacter(first17);
}

export async function createMaker(db: Db, opts: { status?: string; validUntil?: string } = {}) {
  const id = randomUUID();
  await db('makers').insert({
    id,
    name: `测试印章制作有限公司${id.slice(0, 4)}`,
    uscc: makeUscc('110105'),
    licence_no: `京公印制许字第${id.slice(0, 8)}号`,
    district_code: '110105',
    licence_valid_from: '2024-01-01',
    licence_valid_until: opts.validUntil ?? '2099-12-31',
    licence_status: opts.status ?? 'active',
  });
  return id;
}

/** Smallest well-formed files of each accepted type. */
export const PDF_BYTES = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
export const PNG_BYTES = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082',
  'hex',
);

export async function upload(url: string, token: string, caseId: string, kind: string, bytes: Buffer, filename = 'file.pdf') {
  const form = new FormData();
  form.set('kind', kind);
  form.set('file', new Blob([bytes]), filename);
  const res = await fetch(`${url}/api/applications/${caseId}/materials`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as any };
}

/** A real two-page PDF (a contract to be sealed), made with the PDF library the product signs with. */
export async function contractPdf(): Promise<Buffer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PDFDocument } = require('@cantoo/pdf-lib');
  const d = await PDFDocument.create();
  d.addPage([595.28, 841.89]).drawText('Purchase contract No. 2026-12', { x: 60, y: 760, size: 20 });
  d.addPage([595.28, 841.89]).drawText('Signatures', { x: 60, y: 760, size: 20 });
  return Buffer.from(await d.save({ useObjectStreams: false }));
}

/**
 * A registration date `daysAgo` days before today (Beijing), for holders registered through shared
 * registration data: A3 waives materials only within registration.newlyRegisteredDays of it.
 */
export function recentRegistrationDate(daysAgo = 1): string {
  return new Date(Date.now() + 8 * 3_600_000 - daysAgo * 86_400_000).toISOString().slice(0, 10);
}
