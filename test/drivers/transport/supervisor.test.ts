import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, Supervisor } from '../../../drivers/transport/supervisor.js';

afterEach(() => {
  vi.useRealTimers();
});

interface Handle {
  n: number;
  lost: (err: Error) => void;
  closed: boolean;
}

/** A device that is present when `plugged` is true; each open makes a new handle. */
function fakeDevice() {
  const state = { plugged: true, opens: 0, handles: [] as Handle[] };
  return {
    state,
    target: {
      open: async (lost: (err: Error) => void): Promise<Handle> => {
        state.opens++;
        if (!state.plugged) throw new Error('ENOENT');
        const h = { n: state.opens, lost, closed: false };
        state.handles.push(h);
        return h;
      },
      close: async (h: Handle) => {
        h.closed = true;
      },
    },
  };
}

describe('backoff', () => {
  it('doubles from the initial delay up to the cap and never beyond', () => {
    const o = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 50].map((a) => backoffDelay(a, o))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('shortens each delay by at most the jitter fraction', () => {
    const o = { ...DEFAULT_BACKOFF, jitter: 0.3 };
    expect(backoffDelay(10, o, () => 0)).toBe(1000);
    expect(backoffDelay(10, o, () => 0.999999)).toBe(700);
  });
});

describe('supervisor', () => {
  it('emits connected once the first open succeeds', async () => {
    const dev = fakeDevice();
    const sup = new Supervisor(dev.target);
    const connected = vi.fn();
    sup.on('connected', connected);
    await sup.start();
    expect(connected).toHaveBeenCalledTimes(1);
    expect(sup.handle?.n).toBe(1);
    await sup.stop();
  });

  it('keeps retrying a missing device with growing delays and never gives up', async () => {
    vi.useFakeTimers();
    const dev = fakeDevice();
    dev.state.plugged = false;
    const sup = new Supervisor(dev.target, { random: () => 0, backoff: { initialMs: 100, maxMs: 1000 } });
    const delays: number[] = [];
    sup.on('retry', (r: { delayMs: number }) => delays.push(r.delayMs));
    await sup.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(delays.slice(0, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(dev.state.opens).toBeGreaterThan(55);
    dev.state.plugged = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(sup.handle).not.toBeNull();
    await sup.stop();
  });

  it('reopens a lost device with a brand-new handle and closes the old one', async () => {
    vi.useFakeTimers();
    const dev = fakeDevice();
    const sup = new Supervisor(dev.target, { random: () => 0 });
    const events: string[] = [];
    sup.on('connected', (h: Handle) => events.push(`connected ${h.n}`));
    sup.on('disconnected', (e: Error) => events.push(`disconnected ${e.message}`));
    await sup.start();
    dev.state.handles[0]!.lost(new Error('EIO'));
    expect(dev.state.handles[0]!.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(events).toEqual(['connected 1', 'disconnected EIO', 'connected 2']);
    await sup.stop();
  });

  it('ignores a second lost callback from an old handle after the reopen', async () => {
    vi.useFakeTimers();
    const dev = fakeDevice();
    const sup = new Supervisor(dev.target, { random: () => 0 });
    const disconnected = vi.fn();
    sup.on('disconnected', disconnected);
    await sup.start();
    const old = dev.state.handles[0]!;
    old.lost(new Error('EIO'));
    await vi.advanceTimersByTimeAsync(100);
    old.lost(new Error('late close'));
    expect(disconnected).toHaveBeenCalledTimes(1);
    expect(sup.handle?.n).toBe(2);
    await sup.stop();
  });

  it('keeps backing off for a device that flaps right after each open', async () => {
    vi.useFakeTimers();
    const dev = fakeDevice();
    const sup = new Supervisor(dev.target, { random: () => 0, backoff: { stableMs: 5000 } });
    const delays: number[] = [];
    sup.on('retry', (r: { delayMs: number }) => delays.push(r.delayMs));
    sup.on('connected', (h: Handle) => setTimeout(() => h.lost(new Error('flap')), 10));
    await sup.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(delays.slice(0, 4)).toEqual([100, 200, 400, 800]);
    await sup.stop();
  });

  it('starts from the shortest delay again after a connection that stayed up', async () => {
    vi.useFakeTimers();
    const dev = fakeDevice();
    dev.state.plugged = false;
    const sup = new Supervisor(dev.target, { random: () => 0, backoff: { stableMs: 5000 } });
    const delays: number[] = [];
    sup.on('retry', (r: { delayMs: number }) => delays.push(r.delayMs));
    await sup.start();
    await vi.advanceTimersByTimeAsync(3000);
    dev.state.plugged = true;
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(6000);
    delays.length = 0;
    dev.state.handles.at(-1)!.lost(new Error('EIO'));
    expect(delays).toEqual([100]);
    await sup.stop();
  });

  it('stops retrying after stop() and closes the open handle', async () => {
    vi.useFakeTimers();
    const dev = fakeDevice();
    const sup = new Supervisor(dev.target);
    await sup.start();
    await sup.stop();
    expect(dev.state.handles[0]!.closed).toBe(true);
    const opens = dev.state.opens;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(dev.state.opens).toBe(opens);
  });
});
