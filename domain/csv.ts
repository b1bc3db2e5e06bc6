/**
 * CSV cells for every export (RFC 4180). Values typed by makers, officers and holders end up in spreadsheets,
 * so a cell that a spreadsheet would run as a formula (= + - @, tab, carriage return first) gets an apostrophe.
 */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (without its line break). */
export const csvLine = (cells: readonly unknown[]): string => cells.map(csvCell).join(',');
