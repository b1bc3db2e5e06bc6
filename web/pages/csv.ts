// CSV downloads of the pages' tables: UTF-8 with a BOM (spreadsheet programs then read the Chinese right),
// cells formula-safe (domain/csv.ts).
import type { Response } from 'express';
import { csvLine } from '../../domain/csv';
import { formatTime } from './labels';

export function sendCsv(res: Response, name: string, header: string[], rows: Array<Array<string | number | null | undefined>>) {
  const stamp = formatTime(new Date()).replace(/[-: ]/g, '').slice(0, 12);
  const lines = [csvLine(header), ...rows.map(csvLine)];
  res
    .set('content-type', 'text/csv; charset=utf-8')
    .set('content-disposition', `attachment; filename="${name}-${stamp}.csv"`)
    .set('cache-control', 'no-store')
    .set('x-content-type-options', 'nosniff')
    .send('\uFEFF' + lines.join('\r\n') + '\r\n');
}
