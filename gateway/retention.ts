// The retention job (docs/store.md "Retention"): every `privacy.retentionCheckMs` it
// deletes outbox rows delivered more than 7 days ago, erases the personal fields of ledger
// rows older than `privacy.personalDataDays`, and cuts the whole days older than
// `privacy.ledgerDays` behind a signed checkpoint row. Each step is one short transaction
// of a batch sized, and time-boxed (STEP_BUDGET_MS), so it takes well under 1 ms of its own
// (bench/ledger-retention.ts classifies every step over 1 ms), and the job
// pauses between steps (a 2 ms timer: the event loop serves passages meanwhile), so a
// passage waits for about one step. It logs counts, never a row's content.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Interval } from './interval.js';
import { DAY_MS } from './policy/time.js';
import { type GatewayKey, type ReadAheadKind, type RetentionRoom, type Step, expiryBefore } from './store/index.js';

/** Delivered outbox rows are kept this long (the office has them; a re-send comes from the ledger). */
export const OUTBOX_DELIVERED_DAYS = 7;

/**
 * Rows per step, from bench/ledger-retention.ts on the 2-core dev machine (docs/store.md
 * "Figures of retention"): with the WAL checkpoints in a worker, a step's wall time p99 is
 * 0.7 ms (erase 50) and 1.0–1.6 ms (delete 10) on 1 M rows; 100 / 20 with the checkpoints
 * inline had a p99 of 9 / 16.5 ms, and 30 / 6 gained nothing measurable over 50 / 10.
 */
export const RETENTION_BATCH = { erase: 50, delete: 10, outbox: 50 } as const;

export interface RetentionJobOptions {
  room: RetentionRoom;
  personalDataDays: number;
  ledgerDays: number;
  /** 0 = never on its own (tests and benches call runOnce). */
  everyMs: number;
  now: () => number;
  logger: Logger;
  /** Signs the checkpoint rows; absent = unsigned (tests). */
  key?: GatewayKey;
  batch?: Partial<Record<keyof typeof RETENTION_BATCH, number>>;
  /** A step stops taking rows once it has run this long, ms (default STEP_BUDGET_MS). */
  stepBudgetMs?: number;
  /** Pause between steps, ms (default PAUSE_MS). */
  pauseMs?: number;
  /** Between steps; default a timer of pauseMs (decisions waiting in the event loop go first). */
  yieldTo?: () => Promise<void>;
  /** Each step's wall time and CPU time (user + system), ms (benches: the CPU time leaves out waiting for a core). */
  onStep?: (ms: number, cpuMs: number) => void;
  /** CPU time used so far, ms, for onStep (default the process's; a bench passes its thread's). */
  cpuNow?: () => number;
  /**
   * Before each step (store.walCaughtUp, at most WAL_WAIT_MS): on a large WAL the job waits
   * for the checkpoint worker to copy it all back, so its step starts the WAL over instead
   * of growing it to its bound (where a commit checkpoints inline: tens of ms).
   */
  walCaughtUp?: (maxMs: number) => Promise<unknown>;
  /**
   * Started as each erase or delete step's pause begins, and waited for (store.readAhead,
   * at most READ_AHEAD_WAIT_MS): the checkpoint worker reads the pages of the step's rows
   * into the OS's file cache, so the step does not wait for the disk in the event loop.
   */
  readAhead?: (kind: ReadAheadKind, rows: number, maxMs: number) => Promise<unknown>;
}

export interface RetentionCounts {
  /** Ledger rows whose personal fields were erased. */
  erased: number;
  /** Ledger rows, zone corrections and chain rows deleted by day cuts. */
  deleted: number;
  /** Checkpoint rows written. */
  checkpoints: number;
  /** Delivered outbox rows deleted. */
  outboxDeleted: number;
  /** Steps run and the longest one, ms. */
  steps: number;
  longestStepMs: number;
}

const zero = (): RetentionCounts => ({ erased: 0, deleted: 0, checkpoints: 0, outboxDeleted: 0, steps: 0, longestStepMs: 0 });
/**
 * Pause between steps. With setImmediate alone a passage, which crosses the event loop a
 * few times on its way (scan, decision, commit, relay), met a step at each crossing: p50
 * 7.4 ms instead of 1.9 (bench/ledger-retention.ts). A 2 ms timer lets one step in per
 * 2 ms at most, so a passage meets about one.
 */
export const PAUSE_MS = 2;
/**
 * The longest a step waits for the checkpointer; past it the step goes ahead and the WAL's
 * own bound takes over (wal-checkpointer.ts). A worker that is awake copies a step's pages
 * in about a millisecond; only writes that never pause (passages back to back) make it wait
 * this long, once per 1000 pages of WAL.
 */
export const WAL_WAIT_MS = 50;
/**
 * A step's time box for its rows, ms: the batch is the most it takes, and it stops after
 * the row that took it past this, so its own time plus the commit stays under 1 ms. The
 * commit is ~0.1 ms, but up to ~0.7 ms while the checkpoint worker copies pages at the
 * same moment. Without a box, 0.9 % of cut steps ran 1–6 ms of their own CPU in the
 * deletes; with 0.5 ms, 0.4 % still ran 1–2 ms (nearly all in such commits); with 0.3 ms,
 * 0.1 %, at the same throughput (bench/ledger-retention.ts, 200 000 rows, two runs each).
 */
export const STEP_BUDGET_MS = 0.3;
/**
 * The longest a step waits for its read-ahead; past it the step goes ahead and reads what
 * is missing itself. On a slow disk this is what paces the job: it waits here, off the
 * event loop, rather than in the step.
 */
export const READ_AHEAD_WAIT_MS = 200;
const processCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

export class RetentionJob {
  readonly #o: RetentionJobOptions;
  readonly #interval: Interval;
  readonly #batch: Record<keyof typeof RETENTION_BATCH, number>;
  readonly #total = zero();
  #running: Promise<RetentionCounts> | null = null;
  #stopping = false;

  constructor(options: RetentionJobOptions) {
    this.#o = options;
    this.#batch = { ...RETENTION_BATCH, ...options.batch };
    this.#interval = new Interval(options.everyMs, () => void this.runOnce().catch((err: unknown) => options.logger.error({ err }, 'retention: run failed; retried at the next one')));
  }

  start(): void {
    this.#stopping = false;
    this.#interval.start();
  }

  /** Stops the timer and waits for a run in progress to end at its next step. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#interval.stop();
    await this.#running?.catch(() => undefined);
  }

  /** Totals since start (…/stats). */
  counts(): RetentionCounts {
    return { ...this.#total };
  }

  /** One run to the end of what is due now; a run already going is joined, not doubled. */
  runOnce(): Promise<RetentionCounts> {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #run(): Promise<RetentionCounts> {
    const { room, now: clock } = this.#o;
    const now = clock();
    const run = zero();
    const step = async <T extends Step>(fn: () => T, ahead?: [ReadAheadKind, number]): Promise<T> => {
      const read = ahead && this.#o.readAhead?.(ahead[0], ahead[1], READ_AHEAD_WAIT_MS);
      await (this.#o.yieldTo ?? (() => pause(this.#o.pauseMs ?? PAUSE_MS)))();
      await read;
      await this.#o.walCaughtUp?.(WAL_WAIT_MS);
      const cpuNow = this.#o.cpuNow ?? processCpuMs;
      const cpu = this.#o.onStep ? cpuNow() : null;
      const t = performance.now();
      const r = fn();
      const ms = performance.now() - t;
      if (cpu !== null) this.#o.onStep?.(ms, cpuNow() - cpu);
      run.steps += 1;
      run.longestStepMs = Math.max(run.longestStepMs, ms);
      return r;
    };

    let cursor = 0;
    for (let done = false; !done && !this.#stopping; ) {
      const r = await step(() => room.outboxPurgeBatch(now - OUTBOX_DELIVERED_DAYS * DAY_MS, this.#batch.outbox, cursor));
      cursor = r.next;
      run.outboxDeleted += r.n;
      done = r.done;
    }
    const eraseBefore = expiryBefore(now, this.#o.personalDataDays);
    for (let done = false; !done && !this.#stopping; ) {
      const r = await step(() => room.eraseBatch(eraseBefore, this.#batch.erase, this.#o.stepBudgetMs ?? STEP_BUDGET_MS), ['erase', this.#batch.erase]);
      run.erased += r.n;
      done = r.done;
    }
    if (!this.#stopping && !room.cutPending()) {
      const plan = room.planCut(expiryBefore(now, this.#o.ledgerDays));
      if (plan !== null) {
        room.writeCheckpoint(plan, `privacy.ledgerDays = ${this.#o.ledgerDays}`, now, this.#o.key);
        run.checkpoints += 1;
        this.#o.logger.info({ fromSeq: plan.fromSeq, toSeq: plan.toSeq, rows: plan.rows, days: plan.days }, 'retention: checkpoint written; cutting the days it states');
      }
    }
    for (let done = false; !done && !this.#stopping; ) {
      const r = await step(() => room.deleteBatch(this.#batch.delete, this.#o.stepBudgetMs ?? STEP_BUDGET_MS), ['delete', this.#batch.delete]);
      run.deleted += r.n;
      done = r.done;
    }

    for (const k of ['erased', 'deleted', 'checkpoints', 'outboxDeleted', 'steps'] as const) this.#total[k] += run[k];
    this.#total.longestStepMs = Math.max(this.#total.longestStepMs, run.longestStepMs);
    if (run.erased + run.deleted + run.outboxDeleted > 0) {
      this.#o.logger.info(
        { erased: run.erased, deleted: run.deleted, outboxDeleted: run.outboxDeleted, steps: run.steps, longestStepMs: Number(run.longestStepMs.toFixed(3)) },
        'retention: run done',
      );
    }
    return run;
  }
}
