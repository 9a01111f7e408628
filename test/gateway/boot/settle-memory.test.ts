// Full GCs while the gateway's lanes are idle (boot/settle-memory.ts): a real V8 gc taken
// without --expose-gc on the command line, leaving no `gc` to later contexts and the code
// cache usable; one once ready, and one after traffic when the heap holds much more than
// it uses, at most once per interval.
import { runInNewContext, Script } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fullGc, lanesQuietFor, settleMemoryAfterTraffic, settleMemoryWhenIdle, type HeapFigures, type SettleReport } from '../../../gateway/boot/settle-memory.js';

describe('fullGc', () => {
  it('collects an object nothing refers to any more', async () => {
    const gc = fullGc();
    expect(gc).toBeTypeOf('function');
    let target: object | null = { big: new Array(1000).fill(1) };
    const ref = new WeakRef(target);
    target = null;
    // A WeakRef keeps its target to the end of the job that made it.
    await new Promise((r) => setImmediate(r));
    gc?.();
    expect(ref.deref()).toBeUndefined();
  });

  it('leaves no gc to contexts made afterwards, unless the process was started with --expose-gc', () => {
    fullGc();
    const exposedFromStart = typeof (globalThis as { gc?: unknown }).gc === 'function';
    expect(runInNewContext('typeof gc')).toBe(exposedFromStart ? 'function' : 'undefined');
  });

  it('leaves V8 taking a code cache made before it', () => {
    const source = `(function settleProbe(a) { return a * ${Math.random()}; })(2);`;
    const cachedData = new Script(source).createCachedData();
    fullGc()?.();
    expect(new Script(source, { cachedData }).cachedDataRejected).toBe(false);
  });
});

describe('settleMemoryWhenIdle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('collects at once when the lanes are idle, and reports the pause and the heap before and after', () => {
    const reports: SettleReport[] = [];
    settleMemoryWhenIdle({ lanesIdle: () => true, onDone: (r) => reports.push(r) });
    expect(reports).toHaveLength(1);
    expect(reports[0]?.waits).toBe(0);
    expect(reports[0]?.gcMs).toBeGreaterThanOrEqual(0);
    expect(reports[0]?.heapUsedBefore).toBeGreaterThan(0);
    expect(reports[0]?.heapUsedAfter).toBeGreaterThan(0);
  });

  it('waits while a lane is busy and collects once they are all idle', () => {
    vi.useFakeTimers();
    let idle = false;
    const reports: SettleReport[] = [];
    settleMemoryWhenIdle({ lanesIdle: () => idle, onDone: (r) => reports.push(r), retryMs: 1000 });
    vi.advanceTimersByTime(3000);
    expect(reports).toHaveLength(0);
    idle = true;
    vi.advanceTimersByTime(1000);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.waits).toBe(4);
    vi.advanceTimersByTime(10_000);
    expect(reports).toHaveLength(1);
  });

  it('gives up after its last look at lanes that stay busy', () => {
    vi.useFakeTimers();
    const looks = vi.fn(() => false);
    const onDone = vi.fn();
    settleMemoryWhenIdle({ lanesIdle: looks, onDone, retryMs: 1000, maxWaits: 3 });
    vi.advanceTimersByTime(60_000);
    expect(looks).toHaveBeenCalledTimes(4);
    expect(onDone).not.toHaveBeenCalled();
  });

  it('does nothing once cancelled (the gateway stopping)', () => {
    vi.useFakeTimers();
    let idle = false;
    const onDone = vi.fn();
    const cancel = settleMemoryWhenIdle({ lanesIdle: () => idle, onDone });
    cancel();
    idle = true;
    vi.advanceTimersByTime(60_000);
    expect(onDone).not.toHaveBeenCalled();
  });
});

describe('lanesQuietFor', () => {
  const lane = (state: string, since: number) => ({ snapshot: () => ({ state, since }) });

  it('counts from the latest state change when every lane is idle or out of service', () => {
    expect(lanesQuietFor([lane('idle', 1000), lane('out-of-service', 4000), lane('idle', 2500)], 10_000)).toBe(6000);
  });

  it('is 0 while one lane measures or shows a decision', () => {
    expect(lanesQuietFor([lane('idle', 1000), lane('measuring', 2000)], 10_000)).toBe(0);
    expect(lanesQuietFor([lane('showing', 1000), lane('idle', 2000)], 10_000)).toBe(0);
  });

  it('is as long as the gateway has run when there are no lanes', () => {
    expect(lanesQuietFor([], 10_000)).toBe(10_000);
  });
});

describe('settleMemoryAfterTraffic', () => {
  const MB = 1024 * 1024;
  let stop: (() => void) | undefined;

  afterEach(() => {
    stop?.();
    stop = undefined;
    vi.useRealTimers();
  });

  /** A heap that grew in a burst (60 MB held, 25 used) until the test says it shrank. */
  function setup(o: { quietFor: () => number; heap?: () => HeapFigures }) {
    vi.useFakeTimers();
    const reports: SettleReport[] = [];
    stop = settleMemoryAfterTraffic({
      quietForMs: o.quietFor,
      onDone: (r) => reports.push(r),
      heap: o.heap ?? (() => ({ total: 60 * MB, used: 25 * MB })),
      checkMs: 10_000,
      quietMs: 30_000,
      minIntervalMs: 300_000,
      slackBytes: 8 * MB,
    });
    return reports;
  }

  it('collects once the lanes have been idle long enough and the heap holds much more than it uses', () => {
    let quiet = 0;
    const reports = setup({ quietFor: () => quiet });
    vi.advanceTimersByTime(600_000);
    expect(reports).toHaveLength(0); // lanes busy
    quiet = 20_000;
    vi.advanceTimersByTime(10_000);
    expect(reports).toHaveLength(0); // not idle long enough yet
    quiet = 30_000;
    vi.advanceTimersByTime(10_000);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.heapTotalBefore).toBe(60 * MB);
    expect(reports[0]?.gcMs).toBeGreaterThanOrEqual(0);
  });

  it('leaves a heap alone that holds little more than it uses', () => {
    const reports = setup({ quietFor: () => 600_000, heap: () => ({ total: 21 * MB, used: 19 * MB }) });
    vi.advanceTimersByTime(3_600_000);
    expect(reports).toHaveLength(0);
  });

  it('collects at most once per interval while the heap stays large, and no more once it shrank', () => {
    let figures: HeapFigures = { total: 60 * MB, used: 25 * MB };
    const reports = setup({ quietFor: () => 600_000, heap: () => figures });
    vi.advanceTimersByTime(10_000);
    expect(reports).toHaveLength(1);
    // The heap stays large (say its live data grew): not again before the interval is over.
    vi.advanceTimersByTime(290_000);
    expect(reports).toHaveLength(1);
    vi.advanceTimersByTime(10_000);
    expect(reports).toHaveLength(2);
    // Shrunk: nothing more to do.
    figures = { total: 21 * MB, used: 19 * MB };
    vi.advanceTimersByTime(3_600_000);
    expect(reports).toHaveLength(2);
  });

  it('does nothing once stopped (the gateway stopping)', () => {
    const reports = setup({ quietFor: () => 600_000 });
    stop?.();
    vi.advanceTimersByTime(3_600_000);
    expect(reports).toHaveLength(0);
  });
});
