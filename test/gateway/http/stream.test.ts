import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { decision, errorOf, SseReader, startHarness, T0, type Harness } from './helpers.js';

async function openStream(url: string): Promise<{ res: Response; sse: SseReader; abort: AbortController }> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  if (res.body === null) throw new Error('no body');
  return { res, sse: new SseReader(res.body), abort };
}

function snapshotOf(data: string): LaneSnapshot {
  return JSON.parse(data) as LaneSnapshot;
}

describe('GET /api/stream', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('sends the current snapshot at once, then each bus event of the lane within 100 ms', async () => {
    h = await startHarness();
    const north = h.lanes[0]!;
    const { res, sse, abort } = await openStream(`${h.url}/api/stream?lane=north`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toContain('no-cache');

    const first = await sse.next();
    expect(first.event).toBe('lane');
    expect(snapshotOf(first.data)).toMatchObject({ lane: 'north', state: 'idle', last: null });

    const emittedAt = performance.now();
    north.set(h.bus, { state: 'showing', since: T0 + 1, last: decision('admit', T0 + 1) });
    const second = await sse.next();
    expect(second.receivedAt - emittedAt).toBeLessThan(100);
    expect(snapshotOf(second.data)).toMatchObject({ lane: 'north', state: 'showing', last: { outcome: 'admit' } });
    abort.abort();
  });

  it('leaves out events of other lanes when one lane is asked for', async () => {
    h = await startHarness();
    const [north, south] = [h.lanes[0]!, h.lanes[1]!];
    const { sse, abort } = await openStream(`${h.url}/api/stream?lane=south`);
    expect(snapshotOf((await sse.next()).data).lane).toBe('south');
    north.set(h.bus, { state: 'measuring' });
    south.set(h.bus, { state: 'out-of-service' });
    const next = snapshotOf((await sse.next()).data);
    expect(next).toMatchObject({ lane: 'south', state: 'out-of-service' });
    abort.abort();
  });

  it('streams every lane when no lane is asked for', async () => {
    h = await startHarness();
    const { sse, abort } = await openStream(`${h.url}/api/stream`);
    const initial = [snapshotOf((await sse.next()).data).lane, snapshotOf((await sse.next()).data).lane];
    expect(initial.sort()).toEqual(['north', 'south']);
    h.lanes[1]!.set(h.bus, { state: 'measuring' });
    h.lanes[0]!.set(h.bus, { state: 'measuring' });
    expect(snapshotOf((await sse.next()).data).lane).toBe('south');
    expect(snapshotOf((await sse.next()).data).lane).toBe('north');
    abort.abort();
  });

  it('tells the browser how soon to reconnect', async () => {
    h = await startHarness();
    const res = await fetch(`${h.url}/api/stream?lane=north`);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(/^retry: \d+\n\n/);
    await reader.cancel();
  });

  it('stops listening on the bus when the client goes away', async () => {
    h = await startHarness();
    const harness = h;
    const before = harness.bus.listenerCount('lane');
    const { sse, abort } = await openStream(`${harness.url}/api/stream?lane=north`);
    await sse.next();
    expect(harness.bus.listenerCount('lane')).toBe(before + 1);
    abort.abort();
    await expect.poll(() => harness.bus.listenerCount('lane'), { timeout: 2000 }).toBe(before);
    expect(harness.logs().some((l) => l['msg'] === 'sse client gone')).toBe(true);
  });

  it('answers an unknown lane with 400 naming the parameter and the known lanes', async () => {
    h = await startHarness();
    const res = await fetch(`${h.url}/api/stream?lane=west`);
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('BAD_PARAMETER');
    expect(err.message).toContain("'lane'");
    expect(err.message).toContain('north, south');
  });

  it('lets the server close while streams are open', async () => {
    h = await startHarness();
    const { sse } = await openStream(`${h.url}/api/stream?lane=north`);
    await sse.next();
    const harness = h;
    h = undefined;
    await harness.close();
    await expect(sse.next()).rejects.toThrow();
  });
});

describe('GET /api/stream heartbeat', () => {
  it('sends an alive event every second, so a kiosk notices a gateway that hangs with the connection open', async () => {
    // Only the interval is faked: sockets and fetch keep their real timers.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const h = await startHarness();
    try {
      const abort = new AbortController();
      const res = await fetch(`${h.url}/api/stream?lane=north`, { signal: abort.signal });
      const sse = new SseReader(res.body!);
      await sse.next();
      vi.advanceTimersByTime(3_000);
      h.lanes[0]!.set(h.bus, { state: 'measuring' });
      await sse.next();
      expect(sse.alive).toBe(3);
      abort.abort();
    } finally {
      vi.useRealTimers();
      await h.close();
    }
  });
});
