// WAL checkpoints off the decision path (docs/store.md "Checkpoints"). SQLite's own
// auto-checkpoint runs inside whichever commit takes the WAL past 1000 pages — a decision
// or a retention step — and copies the WAL back into the database file with an fsync:
// 10–30 ms in that one commit (bench/retention-wal.ts). Here a worker thread with its own
// connection to the same file checkpoints instead, so the gateway's connection only appends.
//
// - The worker runs a PASSIVE checkpoint (never waits for, never blocks, a reader or writer)
//   every `everyMs`, and at once again while it is behind. PASSIVE only: a RESTART or
//   TRUNCATE from a second connection resets the WAL's header under the gateway's
//   connection, and its next transaction that reads before it writes (a decision does)
//   then fails with SQLITE_BUSY (measured: "database is locked" in a retention step).
//   The WAL starts over from its beginning when a write of the gateway finds it all copied
//   back (any pause in the writes), and shrinks when the store closes.
// - The gateway's connection keeps a high auto-checkpoint (`BOUND_PAGES`) as the bound: a
//   stalled worker leaves the WAL to grow to that, then the gateway checkpoints itself. A
//   worker that dies puts the connection back to SQLite's default and says so (`onLost`).
// - Crash safety is SQLite's: a checkpoint copies only committed frames and the WAL is
//   kept until the database file is synced, so a kill at any moment loses nothing.
// - It also reads ahead for retention (readAhead): before a step, the job asks it to read
//   the pages of the step's rows, so the step finds them in the OS's file cache instead of
//   waiting for the disk inside the event loop.
// - The worker loop is synchronous and sleeps on a shared Int32Array: stop() wakes it and
//   waits (Atomics.wait) for it to close its connection, so the store closes synchronously
//   and its own close, as the last connection, checkpoints and removes the WAL as before.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/** The gateway connection's auto-checkpoint while the worker runs: the WAL's bound (64 MB of 4 KB pages). */
export const BOUND_PAGES = 16_384;
/**
 * WAL size (frames) past which a bulk writer waits for the worker (`caughtUp`): the WAL
 * restarts from its start only at a write that finds it wholly copied back, which a writer
 * that never pauses never does (the WAL then grows to BOUND_PAGES).
 */
export const TARGET_PAGES = 1000;
/** SQLite's default, for the connection once the worker is gone. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

export interface WalCheckpointerOptions {
  /** Pause between checkpoints when caught up, ms. */
  everyMs?: number;
  /** The worker thread's nice value (Linux: a thread's own); default WORKER_NICE, 0 leaves it as the process's. */
  nice?: number;
  /** The worker died (or could not start): the caller's connection must checkpoint again. */
  onLost?: (why: string) => void;
  /**
   * Named read-ahead plans (readAhead): read statements, each taking one parameter, whose
   * pages a bulk writer is about to need (retention.ts readAheadPlans).
   */
  readAhead?: Record<string, string[]>;
}

export interface WalCheckpointStats {
  /** PASSIVE checkpoints the worker ran, and how many could not copy everything (busy). */
  checkpoints: number;
  busy: number;
  /** Frames in the WAL and frames copied back, as of the worker's last checkpoint. */
  log: number;
  checkpointed: number;
  /** Worst WAL seen by the worker, frames. */
  maxLog: number;
  /** Read-aheads run, and how many of them failed (a statement that would not prepare or run). */
  readAheads: number;
  readAheadFailures: number;
  running: boolean;
}

// Slots of the shared Int32Array.
const STOP = 0;
const DONE = 1;
const CHECKPOINTS = 2;
const BUSY = 3;
const LOG = 4;
const CHECKPOINTED = 5;
const MAX_LOG = 6;
const STARTED = 7;
const BEGUN = 8;
const AHEAD_REQ = 9;
const AHEAD_PLAN = 10;
const AHEAD_ROWS = 11;
const AHEAD_DONE = 12;
const AHEAD_FAILED = 13;
const WANT = 14;
/** Moved by every wake-up (stop, caughtUp, readAhead): the worker sleeps on it, so one that comes while it works is not lost. */
const WAKE = 15;
const SLOTS = 16;

/** WAL read ahead of the next commit, bytes (a cut step writes up to ~60 frames), in chunks of WAL_AHEAD_CHUNK (small: the worker's RSS). */
const WAL_AHEAD_BYTES = 256 * 1024;
const WAL_AHEAD_CHUNK = 32 * 1024;

// The worker, as a CommonJS string (eval): no file to find next to the bundle, nothing to compile under vitest.
const WORKER_SOURCE = `(() => {
const { workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const s = new Int32Array(workerData.shared);
const [STOP, DONE, CHECKPOINTS, BUSY, LOG, CHECKPOINTED, MAX_LOG, STARTED, BEGUN] = [${STOP}, ${DONE}, ${CHECKPOINTS}, ${BUSY}, ${LOG}, ${CHECKPOINTED}, ${MAX_LOG}, ${STARTED}, ${BEGUN}];
const [AHEAD_REQ, AHEAD_PLAN, AHEAD_ROWS, AHEAD_DONE, AHEAD_FAILED, WANT, WAKE] = [${AHEAD_REQ}, ${AHEAD_PLAN}, ${AHEAD_ROWS}, ${AHEAD_DONE}, ${AHEAD_FAILED}, ${WANT}, ${WAKE}];
// Started before looking at STOP, so stop() either sees it started (and waits for DONE) or is seen here.
Atomics.store(s, STARTED, 1);
let db = null;
const fs = require('node:fs');
let wal = null;
try {
  if (Atomics.load(s, STOP) !== 0) return;
  // On Linux setpriority(pid 0) sets this thread's nice alone, never below the process's own;
  // where it cannot, the worker runs as it is.
  try {
    const os = require('node:os');
    if (workerData.nice > os.getPriority()) os.setPriority(workerData.nice);
  } catch {}
  // timeout 0: a checkpoint never waits for a lock; a busy one is simply tried again.
  db = new Database(workerData.file, { timeout: 0, fileMustExist: true });
  db.pragma('synchronous = FULL');
  // A checkpoint copies WAL frames to the file without the page cache: no cache to keep.
  db.pragma('cache_size = -64');
  // Prepared once: a statement made every 20 ms is garbage that malloc keeps (issue 16).
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  // Read-ahead plans, prepared at their first use (a plan that will not prepare fails each time, counted).
  const plans = workerData.readAhead.map((sqls) => { let st = null; return () => (st ??= sqls.map((q) => db.prepare(q).pluck())); });
  // The WAL where the next commit will write it (from its end, or from its start when it
  // will start over: all copied back), read so that the commit's frames, which straddle the
  // file's 4 KB pages, find those pages in memory; else the kernel reads each from disk
  // before the write (measured: the main thread asleep in ext4_block_write_begin).
  const frame = 24 + db.pragma('page_size', { simple: true });
  const chunk = Buffer.allocUnsafe(${WAL_AHEAD_CHUNK});
  const readWalAhead = () => {
    wal ??= { fd: fs.openSync(workerData.file + '-wal', 'r'), shm: fs.openSync(workerData.file + '-shm', 'r') };
    // The wal-index header: frames in the WAL (mxFrame, byte 16) and copied back (nBackfill, byte 96).
    fs.readSync(wal.shm, chunk, 0, 100, 0);
    const frames = chunk.readUInt32LE(16);
    const from = frames > 0 && chunk.readUInt32LE(96) === frames ? 0 : 32 + frames * frame;
    for (let at = from; at < from + ${WAL_AHEAD_BYTES}; at += chunk.length) if (fs.readSync(wal.fd, chunk, 0, chunk.length, at) < chunk.length) break;
  };
  // A request (AHEAD_REQ moved past AHEAD_DONE) is served before the checkpoint: a writer waits on it.
  const readAhead = () => {
    const req = Atomics.load(s, AHEAD_REQ);
    if (req === Atomics.load(s, AHEAD_DONE)) return;
    try {
      const rows = Atomics.load(s, AHEAD_ROWS);
      for (const st of plans[Atomics.load(s, AHEAD_PLAN)]()) st.get(rows);
      readWalAhead();
    } catch {
      Atomics.add(s, AHEAD_FAILED, 1);
    }
    Atomics.store(s, AHEAD_DONE, req);
  };
  // Checkpoints keep their own pace (everyMs; 1 ms while behind) or come when asked
  // (WANT, caughtUp); a read-ahead request wakes the worker without one. Measured: a
  // checkpoint at every wake-up left the WAL wholly copied back before each retention
  // step, so nearly every step started it over, with the header fsync that takes.
  let next = 0;
  for (let woken = Atomics.load(s, WAKE); Atomics.load(s, STOP) === 0; woken = Atomics.load(s, WAKE)) {
    readAhead();
    if (Atomics.exchange(s, WANT, 0) !== 0 || performance.now() >= next) {
      Atomics.add(s, BEGUN, 1);
      const r = checkpoint.get();
      if (r.busy) Atomics.add(s, BUSY, 1);
      Atomics.store(s, LOG, r.log);
      Atomics.store(s, CHECKPOINTED, r.checkpointed);
      if (r.log > Atomics.load(s, MAX_LOG)) Atomics.store(s, MAX_LOG, r.log);
      // Last: a count that moved says this checkpoint's figures are in place (caughtUp).
      Atomics.add(s, CHECKPOINTS, 1);
      next = performance.now() + (r.checkpointed < r.log ? 1 : workerData.everyMs);
      readAhead();
    }
    // Returns at once if a wake-up came since the top of this turn.
    Atomics.wait(s, WAKE, woken, Math.max(0, next - performance.now()));
  }
} finally {
  if (wal !== null) { fs.closeSync(wal.fd); fs.closeSync(wal.shm); }
  db?.close();
  Atomics.store(s, DONE, 1);
  Atomics.notify(s, DONE);
}
})();
`;

/**
 * The worker thread's nice value. On 2 cores a copy beside a retention step made the step
 * wait for a core: at nice 10, cut steps over 1 ms went from 0.55–0.85 % to 0.14–0.21 %,
 * and passages that met a step over 1 ms from 2.1–3.6 % to 0.8–1.8 %, at the same
 * throughput (bench/ledger-retention.ts, 200 000 rows, three interleaved runs each).
 * Decisions stay first; a checkpoint is light work (a copy and an fsync) that a tenth of a
 * busy core still keeps up with.
 */
export const WORKER_NICE = 10;

/** The worker's V8 limits, MB (see the constructor). */
export const WORKER_LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16, stackSizeMb: 1 } as const;

export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #s: Int32Array;
  #stopping = false;
  #lost = false;
  /** Resolves with the worker's exit code once its thread is gone. */
  readonly exited: Promise<number>;

  constructor(file: string, opts: WalCheckpointerOptions = {}) {
    this.#s = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
    this.#plans = Object.keys(opts.readAhead ?? {});
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file,
        sqlite: createRequire(import.meta.url).resolve('better-sqlite3'),
        shared: this.#s.buffer,
        everyMs: opts.everyMs ?? 20,
        nice: opts.nice ?? WORKER_NICE,
        readAhead: Object.values(opts.readAhead ?? {}),
      },
      // A thread costs ~10 MB RSS (its own isolate and Node environment; issue 16). It only
      // loops on one pragma (heap ~6 MB, nearly all of it Node's own): a small young
      // generation and stack save ~1 MB (bench/footprint.ts). Past the old-generation
      // limit the worker dies like any lost worker (onLost: the gateway checkpoints again).
      resourceLimits: WORKER_LIMITS,
    });
    // The gateway's process must not stay up for it.
    this.#worker.unref();
    let error = '';
    this.#worker.on('error', (err) => {
      error = err.message;
    });
    this.exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        if (!this.#stopping) {
          this.#lost = true;
          opts.onLost?.(`WAL checkpoint worker exited (code ${code}${error ? `: ${error}` : ''})`);
        }
        resolve(code);
      });
    });
  }

  /** True while the worker checkpoints (not stopped, not lost). */
  get running(): boolean {
    return !this.#stopping && !this.#lost;
  }

  stats(): WalCheckpointStats {
    const s = this.#s;
    return {
      checkpoints: Atomics.load(s, CHECKPOINTS),
      busy: Atomics.load(s, BUSY),
      log: Atomics.load(s, LOG),
      checkpointed: Atomics.load(s, CHECKPOINTED),
      maxLog: Atomics.load(s, MAX_LOG),
      readAheads: Atomics.load(s, AHEAD_DONE),
      readAheadFailures: Atomics.load(s, AHEAD_FAILED),
      running: this.running,
    };
  }

  /**
   * For a bulk writer before its next write (retention): once the WAL has reached
   * TARGET_PAGES frames, waits until a checkpoint that began after this call (so it saw
   * every commit before it) has copied the whole WAL back, so the writer's next write
   * starts the WAL over. A figure from an earlier checkpoint would not do: it misses the
   * writer's own last commit, and the WAL would never start over while the writer keeps on
   * (measured: it grew to BOUND_PAGES at 50 passages a second, bench/ledger-retention.ts).
   * The worker is woken rather than waited out. Resolves true when copied (or the worker is
   * gone), false after `maxMs`. One wait per TARGET_PAGES of WAL: the next comes when the
   * WAL has grown that much more, or has started over and grown again, so when other writes
   * never pause (passages back to back) the bulk writer is not held at every step.
   */
  async caughtUp(maxMs: number): Promise<boolean> {
    const s = this.#s;
    const log = Atomics.load(s, LOG);
    if (log < TARGET_PAGES) this.#askFrom = TARGET_PAGES;
    if (!this.running || log < this.#askFrom) return true;
    this.#askFrom = log + TARGET_PAGES;
    const end = performance.now() + maxMs;
    for (;;) {
      const after = Atomics.load(s, BEGUN);
      const ended = await this.#until(() => Atomics.load(s, CHECKPOINTS) > after, end, () => {
        Atomics.store(s, WANT, 1);
        this.#wake();
      });
      if (ended !== 'done') return ended === 'gone';
      if (Atomics.load(s, CHECKPOINTED) >= Atomics.load(s, LOG)) return true;
      if (performance.now() >= end) return false;
    }
  }

  /**
   * Polls `done` every millisecond (the event loop runs meanwhile) until it holds, the
   * worker is gone, or `end` (performance.now()) has passed; `each` runs before each wait.
   */
  async #until(done: () => boolean, end: number, each?: () => void): Promise<'done' | 'gone' | 'late'> {
    for (;;) {
      if (done()) return 'done';
      if (!this.running) return 'gone';
      if (performance.now() >= end) return 'late';
      each?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  #askFrom = TARGET_PAGES;

  /** Wakes the worker from its pause. */
  #wake(): void {
    Atomics.add(this.#s, WAKE, 1);
    Atomics.notify(this.#s, WAKE);
  }
  readonly #plans: string[];

  /**
   * Asks the worker to run read-ahead plan `plan` with `rows` as its parameter, and waits
   * for it, up to `maxMs`: its reads bring the pages the caller's next write needs into the
   * OS's file cache, so that write does not wait for the disk on the caller's thread.
   * Resolves true once run (a statement that failed is counted in stats, not thrown: a
   * read-ahead only saves time), false for an unknown plan, a gone worker or a timeout.
   */
  async readAhead(plan: string, rows: number, maxMs: number): Promise<boolean> {
    const i = this.#plans.indexOf(plan);
    if (i < 0 || !this.running) return false;
    const s = this.#s;
    Atomics.store(s, AHEAD_PLAN, i);
    Atomics.store(s, AHEAD_ROWS, rows);
    const req = Atomics.add(s, AHEAD_REQ, 1) + 1;
    this.#wake(); // no checkpoint unless one is due
    // Polled, not Atomics.waitAsync: its wake-up ran as a task that took V8's futex lock
    // while the worker (nice 10) held it, and the event loop slept on it (measured with
    // perf: a main-thread futex wait at nearly every read-ahead).
    return (await this.#until(() => Atomics.load(s, AHEAD_DONE) - req >= 0, performance.now() + maxMs)) === 'done';
  }

  /**
   * Stops the worker and waits (up to `waitMs`, then terminates it) for it to close its
   * connection; the thread then ends on its own. Idempotent.
   */
  stop(waitMs = 5000): void {
    if (this.#stopping) return;
    this.#stopping = true;
    Atomics.store(this.#s, STOP, 1);
    this.#wake();
    // Not started yet: it will see STOP and end without opening its connection.
    if (this.#lost || Atomics.load(this.#s, STARTED) === 0) return;
    // Stuck in one long checkpoint: end the thread (SQLite's WAL makes any moment a safe one).
    if (Atomics.wait(this.#s, DONE, 0, waitMs) === 'timed-out') void this.#worker.terminate();
  }
}
