import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, parseRosterCsv, type RosterCsvError } from '../../../gateway/store/index.js';
import { parseOfficeRosterCsv } from '../../../gateway/store/roster-csv.js';
import { freshDir, removeDirs } from './helpers.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const NOW = Date.parse('2022-12-05T12:00:00+08:00');
const HEADER = 'staff_id,name,category,health_code,test_result,test_sampled_at,travel_risk,travel_as_of,active';

afterEach(removeDirs);

/** Errors as "line:column" keys, for compact expectations. */
const where = (errors: RosterCsvError[]): string[] => errors.map((e) => `${e.line}:${e.column}`);

describe('parseRosterCsv on a good file', () => {
  it('reads every row with names, categories and health facts intact', () => {
    const { entries, errors } = parseRosterCsv(fixture('roster-good.csv'), NOW);
    expect(errors).toEqual([]);
    expect(entries).toEqual([
      {
        staffId: 'E-0001',
        name: '张伟',
        category: 'employee',
        health: {
          healthCode: 'green',
          test: { result: 'negative', sampledAt: '2022-12-04T08:30:00+08:00' },
          travel: { riskLevel: 'none', visits: [], asOf: '2022-12-05T07:00:00+08:00' },
        },
        active: true,
        updatedAt: NOW,
      },
      {
        staffId: 'E-0002',
        name: '王芳',
        category: 'employee',
        health: { healthCode: 'yellow', travel: { riskLevel: 'low', visits: [], asOf: '2022-12-05T07:00:00+08:00' } },
        active: true,
        updatedAt: NOW,
      },
      {
        staffId: 'C-0100',
        name: '李娜, 外包',
        category: 'contractor',
        health: { healthCode: 'green', test: { result: 'negative', sampledAt: '2022-12-03T20:00:00Z' } },
        active: true,
        updatedAt: NOW,
      },
      {
        staffId: 'D-0007',
        name: '欧阳 明',
        category: 'driver',
        health: {
          healthCode: 'red',
          test: { result: 'positive', sampledAt: '2022-12-04T10:00:00+08:00' },
          travel: { riskLevel: 'high', visits: [], asOf: '2022-12-05T07:00:00+08:00' },
        },
        active: false,
        updatedAt: NOW,
      },
      { staffId: 'F-12', name: 'Anna Müller', category: 'family', health: { healthCode: 'green' }, active: true, updatedAt: NOW },
    ]);
  });

  it('handles a UTF-8 byte order mark and CRLF line endings as Excel writes them', () => {
    const text = fixture('roster-bom-crlf.csv');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    expect(parseRosterCsv(text, NOW)).toEqual(parseRosterCsv(fixture('roster-good.csv'), NOW));
  });

  it('accepts the columns in any order, any case, without the optional active column', () => {
    const text = 'Name,STAFF_ID,health_code,category,test_result,test_sampled_at,travel_risk,travel_as_of\n张伟,E-1,GREEN,Employee,,,,\n';
    const { entries, errors } = parseRosterCsv(text, NOW);
    expect(errors).toEqual([]);
    expect(entries).toEqual([
      { staffId: 'E-1', name: '张伟', category: 'employee', health: { healthCode: 'green' }, active: true, updatedAt: NOW },
    ]);
  });

  it('skips blank lines and rows of bare commas but keeps line numbers true to the file', () => {
    const text = `${HEADER}\n\nE-1,张伟,employee,green,,,,,\n,,,,,,,,\nbad,王芳,employee,green,,,,,\n`;
    const { entries, errors } = parseRosterCsv(text, NOW);
    expect(entries.map((e) => e.staffId)).toEqual(['E-1']);
    expect(where(errors)).toEqual(['5:staff_id']);
  });

  it('stores what it parsed: the entries round-trip through the store', () => {
    const store = openStore(freshDir());
    try {
      const { entries } = parseRosterCsv(fixture('roster-good.csv'), NOW);
      expect(store.rosterUpsert(entries)).toBe(5);
      expect(store.rosterGet('D-0007')).toEqual(entries[3]);
    } finally {
      store.close();
    }
  });
});

describe('parseRosterCsv on a bad file', () => {
  const { entries, errors } = parseRosterCsv(fixture('roster-bad.csv'), NOW);
  const at = (line: number, column: string): string => {
    const found = errors.filter((e) => e.line === line && e.column === column);
    expect(found, `one error at line ${line}, column ${column}`).toHaveLength(1);
    return found[0]?.message ?? '';
  };

  it('reports every bad cell with its line and column, not just the first', () => {
    expect(where(errors)).toEqual([
      '2:staff_id',
      '3:name',
      '3:category',
      '3:health_code',
      '4:test_result',
      '4:test_sampled_at',
      '5:test_sampled_at',
      '6:test_result',
      '7:test_sampled_at',
      '8:travel_risk',
      '8:travel_as_of',
      '9:active',
      '10:staff_id',
      '11:',
    ]);
    // Only the rows without errors survive, and the importer must not use even those.
    expect(entries.map((e) => e.staffId)).toEqual([]);
  });

  it('says what was expected in each message', () => {
    expect(at(2, 'staff_id')).toMatch(/expected 1-32 upper-case letters.*got "e-0001"/);
    expect(at(3, 'name')).toMatch(/expected a name/);
    expect(at(3, 'category')).toMatch(/expected one of employee, family, contractor, visitor, vendor, driver; got "staff"/);
    expect(at(3, 'health_code')).toMatch(/expected one of green, yellow, red; got "purple"/);
    expect(at(4, 'test_result')).toMatch(/expected one of negative, positive \(or empty\); got "maybe"/);
    expect(at(4, 'test_sampled_at')).toMatch(/expected an ISO 8601 timestamp with a time zone/);
    expect(at(5, 'test_sampled_at')).toMatch(/expected a value because test_result is given/);
    expect(at(6, 'test_result')).toMatch(/expected a value because test_sampled_at is given/);
    expect(at(7, 'test_sampled_at')).toMatch(/expected a time not in the future/);
    expect(at(8, 'travel_risk')).toMatch(/expected one of none, low, medium, high/);
    expect(at(8, 'travel_as_of')).toMatch(/got "yesterday"/);
    expect(at(9, 'active')).toMatch(/expected true or false.*got "perhaps"/);
    expect(at(10, 'staff_id')).toMatch(/expected each staff id once; "E-0003" is already on line 4/);
    expect(at(11, '')).toMatch(/expected 9 cells as in the header, found 4/);
  });
});

describe('parseRosterCsv on a bad header or broken CSV', () => {
  it('refuses an empty file, asking for a header row', () => {
    expect(parseRosterCsv('', NOW).errors).toEqual([
      { line: 1, column: '', message: expect.stringMatching(/expected a header row naming the columns: staff_id,name/) },
    ]);
  });

  it('reports missing, unknown, unnamed and repeated columns on line 1', () => {
    const text = 'staff_id,name,name,helth_code,category,,test_result,test_sampled_at,travel_risk,travel_as_of\n';
    const { errors } = parseRosterCsv(text, NOW);
    expect(errors).toEqual([
      { line: 1, column: 'name', message: expect.stringMatching(/expected each column once; it appears again as column 3/) },
      { line: 1, column: 'helth_code', message: expect.stringMatching(/unknown column: expected one of staff_id/) },
      { line: 1, column: '', message: expect.stringMatching(/column 6 has no name/) },
      { line: 1, column: 'health_code', message: 'required column is missing from the header row' },
    ]);
  });

  it('reports an unclosed quote with its line and keeps the errors found before it', () => {
    const text = `${HEADER}\nbad,张伟,employee,green,,,,,\nE-2,"王芳,employee,green,,,,,\nE-3,李娜,employee,green,,,,,\n`;
    const { errors } = parseRosterCsv(text, NOW);
    expect(where(errors)).toEqual(['2:staff_id', '3:']);
    expect(errors[1]?.message).toMatch(/not valid CSV: .*Quote Not Closed.*opens a quote that is never closed/);
  });

  it('reports a line break inside a quoted value at the line where the row starts', () => {
    const text = `${HEADER}\nE-1,"张\n伟",employee,green,,,,,\nbad,李娜,employee,green,,,,,\n`;
    const { errors } = parseRosterCsv(text, NOW);
    expect(errors).toEqual([
      { line: 2, column: 'name', message: expect.stringMatching(/expected a single line of text/) },
      { line: 4, column: 'staff_id', message: expect.stringMatching(/got "bad"/) },
    ]);
  });

  it('flags text that was not UTF-8, as when a GBK sheet is read as UTF-8', () => {
    const gbkAsUtf8 = Buffer.from([0xd5, 0xc5, 0xce, 0xb0]).toString('utf8'); // 张伟 in GBK
    const { errors } = parseRosterCsv(`${HEADER}\nE-1,${gbkAsUtf8},employee,green,,,,,\n`, NOW);
    expect(errors).toEqual([{ line: 2, column: 'name', message: expect.stringMatching(/expected UTF-8 text/) }]);
  });
});

describe('parseOfficeRosterCsv (the central office\'s import)', () => {
  const OFFICE = `${HEADER},department,team`;

  it('reads the optional department and team beside the gateway\'s columns, empty cells as none', () => {
    const text = `${OFFICE}\nE-1,张伟,employee,green,,,,,,采煤一队,甲班\nC-2,"李娜, 外包",contractor,green,,,,,,机电部,\n`;
    const { rows, errors } = parseOfficeRosterCsv(text, NOW);
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      { entry: { staffId: 'E-1', name: '张伟', category: 'employee', health: { healthCode: 'green' }, active: true, updatedAt: NOW }, office: { department: '采煤一队', team: '甲班' } },
      { entry: { staffId: 'C-2', name: '李娜, 外包', category: 'contractor', health: { healthCode: 'green' }, active: true, updatedAt: NOW }, office: { department: '机电部', team: null } },
    ]);
  });

  it('reads a gateway roster file unchanged, with no department or team', () => {
    const { rows, errors } = parseOfficeRosterCsv(fixture('roster-good.csv'), NOW);
    expect(errors).toEqual([]);
    expect(rows.map((r) => r.entry)).toEqual(parseRosterCsv(fixture('roster-good.csv'), NOW).entries);
    expect(rows.every((r) => r.office.department === null && r.office.team === null)).toBe(true);
  });

  it('reports a bad office cell with its line and column, beside the other problems', () => {
    const text = `${OFFICE}\nE-1,张伟,employee,green,,,,,,"采煤\n一队",甲班\nbad,王芳,employee,green,,,,,,${'部'.repeat(101)},\n`;
    const { rows, errors } = parseOfficeRosterCsv(text, NOW);
    expect(where(errors)).toEqual(['2:department', '4:staff_id', '4:department']);
    expect(errors[2]?.message).toMatch(/expected at most 100 characters, found 101/);
    expect(rows).toEqual([]);
  });

  it('leaves the gateway\'s own importer refusing the office columns', () => {
    const { errors } = parseRosterCsv(`${OFFICE}\nE-1,张伟,employee,green,,,,,,采煤一队,甲班\n`, NOW);
    expect(errors).toEqual([
      { line: 1, column: 'department', message: expect.stringMatching(/unknown column: expected one of staff_id.*leave_back$/) },
      { line: 1, column: 'team', message: expect.stringMatching(/unknown column/) },
    ]);
  });
});
