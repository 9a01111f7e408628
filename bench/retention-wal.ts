// Where a retention step's long tail comes from (docs/store.md "Checkpoints"): retention
// steps back to back on a filled ledger (no passages, no pause), each timed (wall and
// process CPU) and marked when the WAL checkpoint moved during it — read from the
// wal-index (the -shm file: nBackfill at byte 96, the WAL format's WalCkptInfo) before and
// after the step. BENCH_WAL_MODE:
//   auto:   SQLite's auto-checkpoint at 1000 pages, inside the commits (the store before);
//   off:    no checkpoint at all (what the step costs without one, and how the WAL grows);
//   worker: the store's WAL checkpoint worker (wal-checkpointer.ts), as the gateway runs.
// BENCH_WAL_ROWS (default 200 000), BENCH_WAL_BATCH="erase,delete" (default 100,20).
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { DAY_MS } from '../gateway/policy/time.js';
import { ChainRoom } from '../gateway/store/chain.js';
import { DATABASE_FILE, expiryBefore, openStore, RetentionRoom, type Step } from '../gateway/store/index.js';
import { BOUND_PAGES, WalCheckpointer } from '../gateway/store/wal-checkpointer.js';
import { fillLedger, ROWS_PER_DAY } from './ledger-fill.js';
import { percentile } from './stats.js';

const ROWS = Number(process.env.BENCH_WAL_ROWS ?? 200_000);
const MODE = process.env.BENCH_WAL_MODE ?? 'auto';
const [ERASE, DELETE] = (process.env.BENCH_WAL_BATCH ?? '100,20').split(',').map(Number) as [number, number];

interface Times {
  wall: number[];
  cpu: number[];
}

function line(label: string, t: Times): string {
  const s = (a: number[]): string => {
    const sorted = [...a].sort((x, y) => x - y);
    return `${percentile(sorted, 50).toFixed(3)} / ${percentile(sorted, 99).toFixed(3)} / ${(sorted.at(-1) ?? Number.NaN).toFixed(3)}`;
  };
  return `   ${label.padEnd(28)} n=${String(t.wall.length).padStart(6)}  wall p50/p99/max ${s(t.wall)} ms  CPU ${s(t.cpu)} ms  wall >1 ms: ${t.wall.filter((x) => x > 1).length}`;
}

export function benchRetentionWal(): void {
  const now = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-retention-wal-'));
  try {
    const days = Math.ceil(ROWS / ROWS_PER_DAY);
    const from = now - 400 * DAY_MS;
    fillLedger(dir, ROWS, { days, from, to: from + days * DAY_MS });
    openStore(dir).close(); // migrated
    const file = path.join(dir, DATABASE_FILE);
    const db = new Database(file, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`wal_autocheckpoint = ${MODE === 'off' ? 0 : MODE === 'worker' ? BOUND_PAGES : 1000}`);
    const worker = MODE === 'worker' ? new WalCheckpointer(file) : null;
    const room = new RetentionRoom(db, new ChainRoom(db));
    db.prepare('SELECT 1').get(); // the -shm exists from here
    const shm = openSync(`${file}-shm`, 'r');
    const buf = Buffer.alloc(100);
    const backfill = (): number => {
      readSync(shm, buf, 0, 100, 0);
      return buf.readUInt32LE(96); // x86: the wal-index is in native byte order
    };
    const run = (label: string, step: () => Step): void => {
      const moved: Times = { wall: [], cpu: [] };
      const still: Times = { wall: [], cpu: [] };
      let maxWal = 0;
      for (let done = false; !done; ) {
        const b = backfill();
        const c = process.cpuUsage();
        const t = performance.now();
        done = step().done;
        const wall = performance.now() - t;
        const u = process.cpuUsage(c);
        const a = backfill();
        const into = a !== b && a > 0 ? moved : still;
        into.wall.push(wall);
        into.cpu.push((u.user + u.system) / 1000);
        maxWal = Math.max(maxWal, statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
      }
      console.log(`[${MODE}] ${label}: largest WAL ${(maxWal / 1e6).toFixed(1)} MB`);
      console.log(line('checkpoint during the step', moved));
      console.log(line('no checkpoint', still));
    };
    console.log(`${ROWS} expired rows, WAL checkpoints: ${MODE}`);
    run(`erase, batch ${ERASE}`, () => room.eraseBatch(expiryBefore(now, 28), ERASE));
    const plan = room.planCut(expiryBefore(now, 365));
    if (plan === null) throw new Error('expected a cut');
    room.writeCheckpoint(plan, 'bench', now);
    run(`cut, batch ${DELETE}`, () => room.deleteBatch(DELETE));
    if (MODE === 'off') {
      const t = performance.now();
      db.pragma('wal_checkpoint(TRUNCATE)');
      console.log(`   then one checkpoint of the whole WAL: ${(performance.now() - t).toFixed(0)} ms`);
    }
    closeSync(shm);
    worker?.stop();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === `file://${process.argv[1]}`) benchRetentionWal();
