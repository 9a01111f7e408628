// `backup <file>`: a consistent copy of the gateway's SQLite file while the gateway runs.
// SQLite's online backup API (better-sqlite3's db.backup) on a separate read-only
// connection copies the database page by page and starts over a step when the gateway
// writes meanwhile, so the copy is one committed state, never a torn file (a `cp` of a
// WAL database can be). The copy is checked (integrity_check) and renamed into place only
// then, readable by its owner only: it holds the roster and the guards' PIN hashes.
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { configPathFromEnv, loadConfig } from '../config/load.js';
import { DATABASE_FILE } from '../store/index.js';

/** A usage problem: printed as "error: ..." with exit code 2 by the CLI's runner. */
class BackupError extends Error {
  readonly code = 'CLI_BACKUP';
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface BackupResult {
  source: string;
  file: string;
  bytes: number;
  ledgerRows: number;
  lastSeq: number;
}

/** Copy the live database of `dataDir` to `file` (which must not exist) and check the copy. */
export async function backupDatabase(dataDir: string, file: string): Promise<BackupResult> {
  const source = path.join(dataDir, DATABASE_FILE);
  const dest = path.resolve(file);
  if (!existsSync(source)) throw new BackupError(`no ledger at ${source}: has a gateway run with this configuration (dataDir)?`);
  if (existsSync(dest)) throw new BackupError(`${dest} exists already; refusing to overwrite a backup (give a new name, e.g. with the date)`);
  const folder = path.dirname(dest);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new BackupError(`cannot write ${dest}: no folder ${folder}`);
  const partial = `${dest}.partial-${process.pid}`;
  try {
    let db: Database.Database;
    try {
      // Read-only: this connection never writes to the gateway's file; busy_timeout rides over its commits.
      db = new Database(source, { readonly: true, fileMustExist: true, timeout: 5000 });
    } catch (err) {
      throw new BackupError(`cannot open ${source}: ${(err as Error).message} (run the backup as the gateway's user, e.g. sudo -u checkpoint)`);
    }
    try {
      await db.backup(partial);
    } finally {
      db.close();
    }
    chmodSync(partial, 0o600);
    const copy = new Database(partial, { fileMustExist: true });
    let ledgerRows: number;
    let lastSeq: number;
    try {
      // One self-contained file (no -wal/-shm beside it); the gateway turns WAL back on when it opens a restored copy.
      copy.pragma('journal_mode = DELETE');
      const integrity = copy.pragma('integrity_check', { simple: true });
      if (integrity !== 'ok') throw new BackupError(`the copy failed SQLite's integrity check (${String(integrity)}); ${source} itself may be damaged: run \`sqlite3 ${source} 'PRAGMA integrity_check'\``);
      const row = copy.prepare('SELECT count(*) AS n, coalesce(max(seq), 0) AS last FROM ledger').get() as { n: number; last: number };
      ledgerRows = row.n;
      lastSeq = row.last;
    } finally {
      copy.close();
    }
    const fd = openSync(partial, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, dest);
    return { source, file: dest, bytes: statSync(dest).size, ledgerRows, lastSeq };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

export function registerBackupCommand(program: Command): void {
  program
    .command('backup <file>')
    .description("copy the gateway's SQLite file (ledger, outbox, roster, guards) to <file> while the gateway runs, and check the copy; restore: docs/install.md")
    .option('--config <file>', 'gateway config naming the data dir (default GATEWAY_CONFIG or config/gateway.yaml)')
    .action(async (file: string, o: { config?: string }) => {
      const loaded = loadConfig(o.config ?? configPathFromEnv());
      const r = await backupDatabase(loaded.paths.dataDir, file);
      process.stderr.write(`backup of ${r.source} written to ${r.file}: ${r.bytes} bytes, ${r.ledgerRows} ledger rows (last seq ${r.lastSeq}), integrity ok\n`);
    });
}
