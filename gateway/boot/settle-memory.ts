// One full GC once the gateway is ready, so its heap settles low on its own (issue 16,
// docs/footprint.md "Memory"). V8 gives heap pages back to the system only when its memory
// reducer runs, and the reducer is armed only by a mark-compact. The gateway's start
// happens to need none (measured: heapTotal 42 MB, heapUsed 32 MB at ready, still so
// minutes later, RSS ~101 MB on 4 lanes), so without one the garbage of the start and the
// pages it grew into stay for good. One forced full GC at ready frees the garbage at once
// and arms the reducer, which shrinks the heap some seconds later (~83 MB).
// It runs only while every lane is idle (a GC pauses the thread: ~15 ms), never within a
// decision. After that V8's own mark-compacts (a burst of passages makes them) arm the
// reducer again, so nothing here runs periodically.
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
