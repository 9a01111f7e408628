// `backup` against a running gateway that keeps deciding meanwhile, then the restore
// steps of docs/install.md: stop, put the copy in place of the file (and its -wal/-shm),
// start again on it.
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, cliFails, postJson, startGatewayProcess, tempDir, until, writeConfig, type GatewayProcess } from './helpers.js';

let gw: GatewayProcess | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

function ledgerRows(file: string): { n: number; last: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) AS n, coalesce(max(seq), 0) AS last FROM ledger').get() as { n: number; last: number };
  } finally {
    db.close();
  }
}

async function scan(url: string, payload: string): Promise<void> {
  await postJson(`${url}/api/sim/lanes/in-1/temperature`, { celsius: 36.5 });
  const res = await postJson(`${url}/api/sim/lanes/in-1/scan`, { payload });
  if (!res.ok) throw new Error(`scan: ${res.status} ${await res.text()}`);
}

async function eventCount(config: string): Promise<number> {
  const { stdout } = await cli(['events', '--json', '--limit', '1000', '--config', config]);
  return stdout.split('\n').filter((l) => l !== '').length;
}

describe('backup', () => {
  it('copies the ledger of a running gateway while it keeps deciding, and the gateway starts again on the copy', async () => {
    const dir = tempDir('gw-backup-');
    const config = writeConfig(dir, 'backup-site');
    const live = path.join(dir, 'data', 'gateway.sqlite');
    gw = await startGatewayProcess({ site: 'backup-site', config });
    const pass = (await cli(['pass', 'issue', '--name', '张三'])).stdout.trim();

    let scanning = true;
    let scans = 0;
    const scanner = (async () => {
      while (scanning) {
        await scan(gw!.url, pass);
        scans++;
      }
    })();
    await until('a few decisions', () => (scans >= 5 ? true : undefined), 15_000);
    const before = ledgerRows(live).n;
    const file = path.join(dir, 'ledger-backup.sqlite');
    const { stderr } = await cli(['backup', file, '--config', config]);
    const during = scans;
    await until('scans after the backup', () => (scans >= during + 3 ? true : undefined), 15_000);
    scanning = false;
    await scanner;

    const copied = ledgerRows(file);
    expect(stderr).toBe(`backup of ${live} written to ${file}: ${statSync(file).size} bytes, ${copied.n} ledger rows (last seq ${copied.last}), integrity ok\n`);
    expect(copied.n).toBeGreaterThanOrEqual(before);
    expect(copied.n).toBeLessThan(ledgerRows(live).n);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((n) => n.includes('.partial-'))).toEqual([]);
    // A second backup to the same name is refused; the first stays as it is.
    const again = await cliFails(['backup', file, '--config', config]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${file} exists already; refusing to overwrite a backup`);

    // Restore (docs/install.md): stop the gateway, move the file and its -wal/-shm aside, copy the backup in, start.
    expect(await gw.stop()).toBe(0);
    gw = undefined;
    const aside = path.join(dir, 'aside');
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(live + suffix)) renameSync(live + suffix, `${aside}${suffix}`);
    copyFileSync(file, live);
    gw = await startGatewayProcess({ site: 'backup-site', config });
    expect(await eventCount(config)).toBe(copied.n);
    await scan(gw.url, pass);
    await until('the next decision after the restore', async () => ((await eventCount(config)) === copied.n + 1 ? true : undefined));
    expect(ledgerRows(live).last).toBe(copied.last + 1);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says what is missing when the gateway has no ledger yet, and when the backup folder does not exist', async () => {
    const dir = tempDir('gw-backup-none-');
    const config = writeConfig(dir, 'backup-none');
    const none = await cliFails(['backup', path.join(dir, 'b.sqlite'), '--config', config]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`error: no ledger at ${path.join(dir, 'data', 'gateway.sqlite')}: has a gateway run with this configuration (dataDir)?\n`);
    await cli(['guards', 'list', '--config', config]); // creates the file, as a first start would
    const nowhere = await cliFails(['backup', path.join(dir, 'no-such-folder', 'b.sqlite'), '--config', config]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toBe(`error: cannot write ${path.join(dir, 'no-such-folder', 'b.sqlite')}: no folder ${path.join(dir, 'no-such-folder')}\n`);
    rmSync(dir, { recursive: true, force: true });
  });
});
