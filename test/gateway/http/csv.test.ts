import { describe, expect, it } from 'vitest';
import { CSV_BOM, CSV_COLUMNS, csvCell, csvHeader, localTime } from '../../../gateway/http/csv.js';

describe('CSV cells', () => {
  it.each<[string | number | null, string]>([
    ['张三', '张三'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=1+1', "'=1+1"],
    ['+86 138', "'+86 138"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['=A1,"x"', `"'=A1,""x"""`],
    [36.5, '36.5'],
    [-1, '-1'],
    [Number.NaN, ''],
    [null, ''],
  ])('writes %j as %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('starts with a byte order mark and the header row', () => {
    expect(csvHeader()).toBe(`${CSV_BOM}${CSV_COLUMNS.join(',')}\r\n`);
    expect(CSV_BOM.codePointAt(0)).toBe(0xfeff);
  });

  it('writes times in China Standard Time as a spreadsheet reads them', () => {
    expect(localTime(Date.parse('2024-12-03T16:00:00Z'))).toBe('2024-12-04 00:00:00');
    expect(localTime(Date.parse('2024-12-04T08:05:09+08:00'))).toBe('2024-12-04 08:05:09');
  });
});
