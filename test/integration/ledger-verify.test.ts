// `ledger verify` as an auditor runs it: the built CLI on a ledger the built gateway wrote
// (real passes, a refusal, a guard's zone correction), then each kind of tampering done
// directly in the SQLite file, on a copy each. The command must name the row and say what
// happened to it; erasing personal fields the allowed way keeps it clean.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, cliFails, postJson, startGatewayProcess, tempDir, until, writeConfig } from './helpers.js';

const site = `ledger-${process.pid}`;
let original: string;

/** Writes a config whose data dir holds a copy of the gateway's ledger; returns the config and the SQLite file. */
function copyOfLedger(): { config: string; file: string } {
  const dir = tempDir('ledger-copy-');
  const config = writeConfig(dir, site);
  mkdirSync(path.join(dir, 'data'));
  for (const f of readdirSync(original)) if (f.startsWith('gateway.sqlite')) copyFileSync(path.join(original, f), path.join(dir, 'data', f));
  return { config, file: path.join(dir, 'data', 'gateway.sqlite') };
}

/** Opens the copy as a tamperer would: sqlite with the append-only triggers dropped. */
function tamper(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec('DROP TRIGGER ledger_facts_fixed; DROP TRIGGER ledger_person_erase_only; DROP TRIGGER ledger_no_delete');
    db.exec(sql);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  const dir = tempDir('ledger-gw-');
  const config = writeConfig(dir, site);
  original = path.join(dir, 'data');
  const gw = await startGatewayProcess({ site, config });
  try {
    const ledgerRows = (): number => {
      const db = new Database(path.join(original, 'gateway.sqlite'), { readonly: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const scan = async (payload: string, celsius: number): Promise<void> => {
      const before = ledgerRows();
      expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius })).status).toBe(202);
      expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload })).status).toBe(202);
      await until('the decision in the ledger', () => (ledgerRows() > before ? true : undefined));
    };
    const pass = async (...args: string[]): Promise<string> => (await cli(['pass', 'issue', ...args])).stdout.trim();
    await scan(await pass('--name', '张三'), 36.5);
    await scan(await pass('--name', '李四', '--health-code', 'red'), 36.6);
    await scan('NOT-A-PASS', 36.5);
    await scan(await pass('--name', '王五'), 36.7);
    await scan(await pass('--name', '赵六'), 36.4);
  } finally {
    expect(await gw.stop()).toBe(0);
  }
}, 60_000);

describe('ledger verify', () => {
  it('exits 0 with a summary of what it verified on the ledger the gateway wrote', async () => {
    const { config } = copyOfLedger();
    const { stdout } = await cli(['ledger', 'verify', '--config', config]);
    expect(stdout).toContain('ledger chain intact');
    expect(stdout).toMatch(/6 chain rows verified: 5 ledger rows/);
    expect(stdout).toMatch(/head: seq 6, sha256 [0-9a-f]{64}/);
  });

  it.each([
    ['edited', "UPDATE ledger SET outcome = 'admit' WHERE seq = 2", /edited at ledger seq 2 \(chain row 3\)/],
    ['deleted', 'DELETE FROM ledger WHERE seq = 3', /deleted at ledger seq 3 \(chain row 4\)/],
    [
      'inserted',
      "INSERT INTO ledger (id, at, lane, kind, outcome, reasons, alerts, credential, subject_ref) SELECT 'forged-' || id, at + 1, lane, kind, 'admit', '[]', '[]', credential, subject_ref FROM ledger WHERE seq = 2",
      /inserted at ledger seq 6: ledger seq 6 is in no chain row/,
    ],
    ['reordered', 'UPDATE ledger SET seq = -4 WHERE seq = 4; UPDATE ledger SET seq = 4 WHERE seq = 5; UPDATE ledger SET seq = 5 WHERE seq = -4', /reordered at ledger seq 4 \(chain row 5\): ledger seq 4 holds the row the chain records as ledger seq 5/],
  ])('names a row %s directly in SQLite and exits non-zero', async (_kind, sql, message) => {
    const { config, file } = copyOfLedger();
    tamper(file, sql);
    const { code, stderr, stdout } = await cliFails(['ledger', 'verify', '--config', config]);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toContain('[LEDGER_CHAIN_BROKEN]');
  });

  it('stays clean when personal and health fields are erased, the commitments kept, and reports them', async () => {
    const { config, file } = copyOfLedger();
    const db = new Database(file);
    db.exec(`UPDATE ledger SET subject_name = NULL, note = NULL, approver = NULL, approval_key = NULL, responsible = NULL, plate = NULL, person_salt = NULL WHERE person_salt IS NOT NULL;
             UPDATE ledger SET temperature = NULL, facts = NULL, health_salt = NULL WHERE health_salt IS NOT NULL`);
    expect(db.prepare('SELECT count(*) AS n FROM ledger WHERE subject_name IS NOT NULL OR temperature IS NOT NULL').get()).toEqual({ n: 0 });
    db.close();
    const { stdout } = await cli(['ledger', 'verify', '--config', config]);
    expect(stdout).toContain('ledger chain intact');
    expect(stdout).toMatch(/erased and still verifiable: person fields of 4 rows, health fields of 5 rows/);
  });

  it('gives the report as JSON with --json, also when the chain is broken', async () => {
    const { config, file } = copyOfLedger();
    tamper(file, 'DELETE FROM ledger WHERE seq = 5');
    const { stdout } = await cliFails(['ledger', 'verify', '--config', config, '--json']);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, verified: 5, problem: { kind: 'deleted', table: 'ledger', seq: 5, chainSeq: 6 } });
  });
});
