// `privacy purge-health`: every health field of the ledger and the roster erased, the
// purge recorded in the hash chain, and `ledger verify` still clean; the command asks for
// the site id first and erases nothing without it.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { purgeHealth } from '../../../gateway/cli/privacy.js';
import { openStore, verifyLedger } from '../../../gateway/store/index.js';
import { ROOT, tempDir, writeConfig } from '../../integration/helpers.js';
import { entry } from '../store/helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const FACTS = { v: 1, now: 1, readings: [{ celsius: 36.6, at: 1 }] } as unknown as NonNullable<Parameters<ReturnType<typeof openStore>['appendDecision']>[0]['facts']>;

function seeded(dataDir: string): void {
  const store = openStore(dataDir);
  for (let i = 0; i < 1203; i++) store.appendDecision(entry({ facts: FACTS, temperature: 36.5 + (i % 5) / 10 }), () => null);
  store.appendDecision(entry({ temperature: null, facts: null }), () => null);
  store.rosterUpsert([
    { staffId: 'E1001', name: '张三', category: 'employee', health: { healthCode: 'green' }, active: true, updatedAt: 1_735_689_600_000 },
    { staffId: 'E1002', name: '李四', category: 'employee', health: { healthCode: 'yellow' }, active: true, updatedAt: 1_735_689_600_000 },
  ]);
  store.close();
}

const healthLeft = (dataDir: string): { ledger: number; roster: number; names: number } => {
  const db = new Database(path.join(dataDir, 'gateway.sqlite'), { readonly: true });
  try {
    const q = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    return {
      ledger: q('SELECT count(*) AS n FROM ledger WHERE coalesce(temperature, facts, health_salt) IS NOT NULL'),
      roster: q("SELECT count(*) AS n FROM roster WHERE health <> '{}'"),
      names: q('SELECT count(*) AS n FROM ledger WHERE subject_name IS NOT NULL'),
    };
  } finally {
    db.close();
  }
};

describe('privacy purge-health', () => {
  it('erases every health field in the ledger and the roster, keeps names, records it in the chain, and the chain still verifies', async () => {
    const dir = tempDir('purge-health-');
    dirs.push(dir);
    seeded(dir);
    const r = await purgeHealth(dir, () => 1_700_000_000_000);
    expect(r).toMatchObject({ ledgerRows: 1203, rosterRows: 2 });
    expect(healthLeft(dir)).toEqual({ ledger: 0, roster: 0, names: 1204 });
    const report = verifyLedger(dir);
    expect(report).toMatchObject({ ok: true, erased: { person: 0, health: 1203 }, head: { seq: r.head.seq } });
    const db = new Database(path.join(dir, 'gateway.sqlite'), { readonly: true });
    const row = db.prepare('SELECT kind, body FROM chain WHERE seq = ?').get(r.head.seq) as { kind: string; body: string };
    db.close();
    expect(row.kind).toBe('erasure');
    expect(JSON.parse(row.body)).toMatchObject({ reason: 'privacy purge-health', erased: { group: 'health', ledgerRows: 1203, rosterRows: 2 } });
    // Twice is harmless: nothing left to erase.
    expect(await purgeHealth(dir)).toMatchObject({ ledgerRows: 0, rosterRows: 0 });
  });
});

describe('privacy purge-health on the command line', () => {
  beforeAll(() => {
    if (!existsSync(path.join(ROOT, 'dist/gateway/cli/main.js'))) throw new Error('run npm run build first: this test runs dist/gateway/cli/main.js');
  });

  const run = (config: string, args: string[], input: string) =>
    spawnSync(process.execPath, ['dist/gateway/cli/main.js', 'privacy', 'purge-health', '--config', config, ...args], { cwd: ROOT, input, encoding: 'utf8' });

  it('erases nothing unless the site id is given as confirmation, then erases and prints the counts', () => {
    const dir = tempDir('purge-health-cli-');
    dirs.push(dir);
    const config = writeConfig(dir, 'purge-site');
    seeded(path.join(dir, 'data'));

    const refused = run(config, [], 'other-site\n');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('[PRIVACY_PURGE_REFUSED] not confirmed: expected the site id "purge-site"');
    expect(healthLeft(path.join(dir, 'data')).ledger).toBe(1203);

    const done = run(config, [], 'purge-site\n');
    expect(done.status, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/health fields erased: 1203 ledger rows, 2 roster entries; recorded in the hash chain at seq \d+/);
    expect(healthLeft(path.join(dir, 'data'))).toMatchObject({ ledger: 0, roster: 0 });
    expect(run(config, ['--yes'], '').status).toBe(0);
  });
});
