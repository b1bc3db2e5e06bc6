import { csvCell, csvLine } from '../../domain/csv';

describe('CSV exports (M6, I1): spreadsheet-safe cells', () => {
  it.each(['=1+1', '+86 10 1234', '-2', '@SUM(A1)', '\tcmd', '\rcmd'])('a cell starting like a formula (%j) becomes text', (v) => {
    const cell = csvCell(v);
    expect(cell.replace(/^"/, '')).toMatch(/^'/);
  });

  it('quotes commas, quotes and line breaks as RFC 4180 says, and leaves plain text alone', () => {
    expect(csvCell('北京市朝阳区')).toBe('北京市朝阳区');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nnext')).toBe('"line\nnext"');
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
  });

  it('writes empty cells for null and undefined, ISO times for dates, JSON for objects', () => {
    expect(csvLine([null, undefined, 3, new Date('2026-11-27T00:00:00Z'), { a: 1 }])).toBe(',,3,2026-11-27T00:00:00.000Z,"{""a"":1}"');
  });
});
