// Full GCs at quiet moments, so the heap settles low on its own (issue 16, docs/footprint.md
// "Memory"). V8 gives heap pages back to the system only in a GC that reduces memory (its
// memory reducer's, some seconds after a mark-compact armed it) or in a full GC at a time
// of low allocation (it then shrinks the young generation and frees empty pages at once).
// - Once ready: the gateway's start happens to need no mark-compact (measured: heapTotal
//   42 MB, heapUsed 32 MB at ready, still so minutes later, RSS ~101 MB on 4 lanes), so
//   without one the garbage of the start and the pages it grew into stay for good. One
//   forced full GC at ready frees the garbage at once and arms the reducer (~83 MB).
// - After traffic: a burst of passages grows the heap (4 lanes, 1000 passages: heapTotal
//   20 → 60 MB, the young generation 1 → 32 MB). Its mark-compacts arm the reducer only
//   when the old generation's committed memory grew by 10 MB (and 10 %) since the reducer
//   last ran, about what such a burst adds: in some runs the heap was back ~55 s after the
//   burst, in others still 60 MB (RSS ~126 MB) after 60 s. One full GC once the lanes have
//   been idle a while shrinks it at once (heapTotal 60 → 22 MB), only when V8 holds much
//   more than it uses and at most once in a few minutes.
// A GC pauses the thread (15–70 ms measured): both run only while every lane is idle,
// never within a decision.
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = () => void;

let cached: Gc | null | undefined;

/**
 * V8's gc() without running the process under --expose-gc: a command-line flag would make
 * V8 refuse the bundle's code cache (built without it). The flag is on only while a fresh
 * context is made to take its `gc` from, then off again, so no later context (and no
 * later code cache check, should a V8 recompute its flag hash) sees it.
 */
export function fullGc(): Gc | null {
  if (cached !== undefined) return cached;
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return (cached = global as Gc);
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    cached = typeof gc === 'function' ? (gc as Gc) : null;
  } catch {
    cached = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return cached;
}

export interface SettleReport {
  /** The GC's pause, ms. */
  gcMs: number;
  heapUsedBefore: number;
  heapUsedAfter: number;
  heapTotalBefore: number;
  /** How many times it waited for the lanes to be idle first. */
  waits: number;
}

export interface SettleOptions {
  /** True while no lane is measuring or showing a decision. */
  lanesIdle: () => boolean;
  /** Called once with what was done (not called when gc is unavailable or it gave up). */
  onDone: (report: SettleReport) => void;
  /** Between looks at the lanes while they are busy, ms. */
  retryMs?: number;
  /** Looks before giving up (busy lanes from the start make their own garbage and GCs). */
  maxWaits?: number;
}

/** Runs one full GC as soon as the lanes are idle (now, if they are); returns a cancel. */
export function settleMemoryWhenIdle(opts: SettleOptions): () => void {
  const retryMs = opts.retryMs ?? 1000;
  const maxWaits = opts.maxWaits ?? 60;
  let waits = 0;
  let timer: NodeJS.Timeout | null = null;
  const attempt = (): void => {
    timer = null;
    if (!opts.lanesIdle()) {
      if (++waits <= maxWaits) timer = setTimeout(attempt, retryMs).unref();
      return;
    }
    const gc = fullGc();
    if (gc === null) return;
    const before = process.memoryUsage();
    const t0 = performance.now();
    gc();
    const gcMs = performance.now() - t0;
    const after = process.memoryUsage();
    opts.onDone({ gcMs, heapUsedBefore: before.heapUsed, heapUsedAfter: after.heapUsed, heapTotalBefore: before.heapTotal, waits });
  };
  attempt();
  return () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    waits = maxWaits + 1;
  };
}

/** Lane states that count as idle. Out of service too: a lane whose device is down would otherwise hold the GCs off for good. */
export const IDLE_LANE_STATES: ReadonlySet<string> = new Set(['idle', 'out-of-service']);

/** How long every lane has been idle, ms (from the latest state change); 0 while one is busy. */
export function lanesQuietFor(lanes: readonly { snapshot(): { state: string; since: number } }[], now: number): number {
  let last = 0;
  for (const lane of lanes) {
    const { state, since } = lane.snapshot();
    if (!IDLE_LANE_STATES.has(state)) return 0;
    last = Math.max(last, since);
  }
  return Math.max(0, now - last);
}

export interface HeapFigures {
  /** Bytes V8 holds for the heap (heapTotal). */
  total: number;
  /** Bytes in use, garbage not yet collected included (heapUsed). */
  used: number;
}

function v8Heap(): HeapFigures {
  const h = process.memoryUsage();
  return { total: h.heapTotal, used: h.heapUsed };
}

export interface AfterTrafficOptions {
  /** How long every lane has been idle, ms (0 while one measures or shows a decision). */
  quietForMs: () => number;
  /** Called after each collection. */
  onDone: (report: SettleReport) => void;
  /** Between looks, ms. */
  checkMs?: number;
  /** The lanes idle at least this long first, ms: V8's reducer often gets there by itself. */
  quietMs?: number;
  /** At least this long between two collections, ms. */
  minIntervalMs?: number;
  /** Collect only when V8 holds at least this many bytes more than it uses. */
  slackBytes?: number;
  /** The heap's figures (process.memoryUsage by default). */
  heap?: () => HeapFigures;
  /** Clock for the interval, ms. */
  now?: () => number;
}

export const AFTER_TRAFFIC_DEFAULTS = {
  checkMs: 10_000,
  quietMs: 30_000,
  minIntervalMs: 5 * 60_000,
  // Settled, V8 holds ~1–3 MB more than it uses; after a burst 25–40 MB.
  slackBytes: 8 * 1024 * 1024,
} as const;

/**
 * Looks every checkMs and runs one full GC when the lanes have been idle for quietMs and
 * the heap holds slackBytes more than it uses, at most once per minIntervalMs. Returns a
 * stop. (Started at ready, its first look comes after the GC at ready: by then the heap
 * has mostly shrunk, and if not, this GC shrinks it.)
 */
export function settleMemoryAfterTraffic(opts: AfterTrafficOptions): () => void {
  const d = AFTER_TRAFFIC_DEFAULTS;
  const now = opts.now ?? Date.now;
  const heap = opts.heap ?? v8Heap;
  const quietMs = opts.quietMs ?? d.quietMs;
  const minIntervalMs = opts.minIntervalMs ?? d.minIntervalMs;
  const slackBytes = opts.slackBytes ?? d.slackBytes;
  let last = Number.NEGATIVE_INFINITY;
  const timer = setInterval(() => {
    if (now() - last < minIntervalMs) return;
    if (opts.quietForMs() < quietMs) return;
    const before = heap();
    if (before.total - before.used < slackBytes) return;
    const gc = fullGc();
    if (gc === null) return void clearInterval(timer);
    const t0 = performance.now();
    gc();
    const gcMs = performance.now() - t0;
    last = now();
    const after = heap();
    opts.onDone({ gcMs, heapUsedBefore: before.used, heapUsedAfter: after.used, heapTotalBefore: before.total, waits: 0 });
  }, opts.checkMs ?? d.checkMs).unref();
  return () => clearInterval(timer);
}
