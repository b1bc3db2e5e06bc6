// CSV downloads of the pages' tables: UTF-8 with a BOM (spreadsheet programs then read the Chinese right),
// every cell quoted, and a leading = + - @ neutralised so that a spreadsheet does not run it as a formula.
import type { Response } from 'express';
import { formatTime } from './labels';

export const csvCell = (v: string | number | null | undefined) => {
  const s = v === null || v === undefined ? '' : String(v);
  return `"${(/^[=+\-@\t\r]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"`;
};

export function sendCsv(res: Response, name: string, header: string[], rows: Array<Array<string | number | null | undefined>>) {
  const stamp = formatTime(new Date()).replace(/[-: ]/g, '').slice(0, 12);
  const lines = [header.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))];
  res
    .set('content-type', 'text/csv; charset=utf-8')
    .set('content-disposition', `attachment; filename="${name}-${stamp}.csv"`)
    .set('cache-control', 'no-store')
    .set('x-content-type-options', 'nosniff')
    .send('\uFEFF' + lines.join('\r\n') + '\r\n');
}
