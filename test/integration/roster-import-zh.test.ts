// `roster import` of a Chinese Excel export, as HR saves it: the same people as the
// English file, whether the CSV is UTF-8 with a byte order mark or GB18030.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../gateway/store/index.js';
import { ROOT, cli, cliFails, tempDir, writeConfig } from './helpers.js';

const FIXTURES = path.join(ROOT, 'test/gateway/store/fixtures');

/** Imports a file into a fresh data dir; the roster as stored (without the import time) and the CLI's message. */
async function importInto(file: string): Promise<{ roster: unknown[]; stderr: string }> {
  const dir = tempDir('roster-zh-');
  const config = writeConfig(dir, `it-${randomBytes(3).toString('hex')}`);
  const { stderr } = await cli(['roster', 'import', file, '--config', config]);
  const store = openStore(path.join(dir, 'data'));
  try {
    const roster = store.rosterAll().map(({ updatedAt: _at, ...rest }) => ({ ...rest, leave: store.leaveFor(rest.staffId).map(({ destination, out, back }) => ({ destination, out, back })) }));
    return { roster, stderr };
  } finally {
    store.close();
  }
}

describe('roster import of a Chinese Excel export', () => {
  it('imports the same entries from the UTF-8 (with BOM) and the GB18030 export as from the English file', async () => {
    const english = await importInto(path.join(FIXTURES, 'roster-zh-en.csv'));
    expect(english.roster).toHaveLength(6);
    expect(english.roster).toContainEqual(expect.objectContaining({ staffId: 'C-0100', leave: [{ destination: '太原', out: '2024-11-28', back: '2024-12-01' }] }));
    const utf8 = await importInto(path.join(FIXTURES, 'roster-zh-excel-utf8-bom.csv'));
    expect(utf8.stderr).toMatch(/^imported 6 roster entries into .*gateway\.sqlite\n$/);
    expect(utf8.roster).toEqual(english.roster);
    const gb = await importInto(path.join(FIXTURES, 'roster-zh-excel-gb18030.csv'));
    expect(gb.stderr).toContain('imported 6 roster entries');
    expect(gb.stderr).toContain('(the file was read as GB18030, as Excel on Chinese Windows saves CSV)');
    expect(gb.roster).toEqual(english.roster);
  });

  it('names the column as written and the Chinese words it takes, and imports nothing', async () => {
    const dir = tempDir('roster-zh-bad-');
    const config = writeConfig(dir, `it-${randomBytes(3).toString('hex')}`);
    const file = path.join(dir, 'bad.csv');
    writeFileSync(file, '\uFEFF工号,姓名,类别,健康码,核酸结果,采样时间,行程风险,行程更新时间\r\nE-1,张三,员工,绿码,阴性,2024/12/4 8:30,,\r\nE-2,李四,老板,绿码,,,,\r\n');
    const { code, stderr } = await cliFails(['roster', 'import', file, '--config', config]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      `error: ${file}: 1 problem(s), nothing imported:\n` +
        '  line 3, column 类别 (category): expected one of employee, family, contractor, visitor, vendor, driver; got "老板" (或 员工、家属、外包、访客、供应商、司机)\n',
    );
  });
});
