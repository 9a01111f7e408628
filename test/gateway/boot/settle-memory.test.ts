// One full GC once the gateway is ready and its lanes are idle (boot/settle-memory.ts):
// a real V8 gc taken without --expose-gc on the command line, leaving no `gc` to later
// contexts and the code cache usable; run only when the lanes are idle.
import { runInNewContext, Script } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fullGc, settleMemoryWhenIdle, type SettleReport } from '../../../gateway/boot/settle-memory.js';

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
