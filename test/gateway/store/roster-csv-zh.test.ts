// A roster exported from Excel on a Chinese office PC: Chinese headers and words, Excel's
// dates in China time, UTF-8 with a byte order mark or GB18030.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRosterCsv } from '../../../gateway/store/roster-csv.js';
import { chineseRosterDialect, decodeRosterBytes, excelTimeToIso } from '../../../gateway/store/roster-csv-zh.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const NOW = Date.parse('2024-12-06T00:00:00+08:00');
const bytes = (name: string) => readFileSync(path.join(FIXTURES, name));

function parseFile(name: string) {
  const { text, encoding } = decodeRosterBytes(bytes(name));
  return { encoding, ...parseRosterCsv(text, NOW, chineseRosterDialect()) };
}

describe('Chinese Excel roster', () => {
  const english = parseFile('roster-zh-en.csv');

  it('reads the English file of the same people without errors', () => {
    expect(english.errors).toEqual([]);
    expect(english.entries).toHaveLength(6);
  });

  it('reads the UTF-8 export with a byte order mark as the same entries as the English file', () => {
    const zh = parseFile('roster-zh-excel-utf8-bom.csv');
    expect(zh).toMatchObject({ encoding: 'UTF-8', errors: [] });
    expect(zh.entries).toEqual(english.entries);
  });

  it('reads the GB18030 export (not valid UTF-8) as the same entries as the English file', () => {
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes('roster-zh-excel-gb18030.csv'))).toThrow();
    const zh = parseFile('roster-zh-excel-gb18030.csv');
    expect(zh).toMatchObject({ encoding: 'GB18030', errors: [] });
    expect(zh.entries).toEqual(english.entries);
    expect(zh.entries.find((e) => e.staffId === 'C-0100')).toMatchObject({
      name: '李娜, 外包',
      category: 'contractor',
      health: { healthCode: 'green', test: { result: 'negative', sampledAt: '2024-12-03T20:00:00+08:00' } },
      leave: { destination: '太原', out: '2024-11-28', back: '2024-12-01' },
    });
  });

  it('reads Excel dates as China time, with or without seconds, and leaves a bare date to the leave columns', () => {
    expect(excelTimeToIso('2026/12/4 8:30', false)).toBe('2026-12-04T08:30:00+08:00');
    expect(excelTimeToIso('2026-12-04 08:30', false)).toBe('2026-12-04T08:30:00+08:00');
    expect(excelTimeToIso('2026/12/04 08:30:15', false)).toBe('2026-12-04T08:30:15+08:00');
    expect(excelTimeToIso('2026年12月4日 8:30', false)).toBe('2026-12-04T08:30:00+08:00');
    expect(excelTimeToIso('2026/12/4', true)).toBe('2026-12-04');
    expect(excelTimeToIso('2026/12/4', false)).toBe('2026/12/4');
    expect(excelTimeToIso('2024-12-04T08:30:00Z', false)).toBe('2024-12-04T08:30:00Z');
  });

  it('takes headers with notes and marks, and names the column as written in its errors', () => {
    const text = '工号*,姓名 (必填),类别,健康码,核酸结果,采样时间（北京时间）,行程风险,行程更新时间\nE-1,张三,老板,紫码,阴性,2024/12/4,,\n';
    const dialect = chineseRosterDialect();
    const { errors } = parseRosterCsv(text, NOW, dialect);
    expect(errors.map((e) => [e.line, e.column])).toEqual([
      [2, 'category'],
      [2, 'health_code'],
      [2, 'test_sampled_at'],
    ]);
    expect(errors[2]?.message).toMatch(/expected an ISO 8601 timestamp with a time zone.*got "2024\/12\/4"/);
    expect(dialect.writtenAs('test_sampled_at')).toBe('采样时间（北京时间）');
    expect(dialect.writtenAs('staff_id')).toBe('工号*');
  });
});
