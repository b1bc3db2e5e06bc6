// Reference data every environment needs (not demo data): the 16 districts of Beijing.
import type { Db } from './db';
import { BEIJING_DISTRICTS } from '../domain/districts';

export async function upsertReferenceData(db: Db): Promise<void> {
  await db('districts')
    .insert(BEIJING_DISTRICTS.map((d) => ({ code: d.code, name_zh: d.nameZh, name_en: d.nameEn })))
    .onConflict('code')
    .merge();
}
