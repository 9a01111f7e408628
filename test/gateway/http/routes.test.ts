import { afterEach, describe, expect, it } from 'vitest';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { signIn } from './guard-helpers.js';
import { decision, errorOf, startHarness, T0, TestLane, type Harness } from './helpers.js';

class BrokenLane extends TestLane {
  override snapshot(): LaneSnapshot {
    throw new Error('secret internal detail');
  }
}

describe('routing and errors', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('lists the snapshots of all lanes', async () => {
    h = await startHarness();
    h.lanes[1]!.set(h.bus, { state: 'showing', last: decision('refuse', T0) });
    const res = await fetch(`${h.url}/api/lanes`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { lanes: LaneSnapshot[] };
    expect(body.lanes.map((l) => [l.lane, l.state])).toEqual([
      ['north', 'idle'],
      ['south', 'showing'],
    ]);
    expect(body.lanes[1]!.last).toMatchObject({ outcome: 'refuse', maskedName: '张*' });
  });

  it('answers unknown routes with 404 JSON', async () => {
    h = await startHarness();
    for (const [method, path] of [
      ['GET', '/nope'],
      ['GET', '/api/nope'],
      ['POST', '/healthz'],
      ['DELETE', '/api/events'],
    ] as const) {
      const res = await fetch(`${h.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const err = await errorOf(res);
      expect(err.code).toBe('NOT_FOUND');
      expect(err.message).toBe(`no route ${method} ${path}`);
    }
  });

  it('answers a failure with 500 JSON without internals, and logs the error', async () => {
    h = await startHarness({ lanes: [new BrokenLane('north')] });
    const res = await fetch(`${h.url}/api/lanes`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'internal error; see the gateway log' } });
    expect(text).not.toContain('secret internal detail');
    expect(text).not.toContain('.ts:');
    const logged = h.logs().find((l) => l['msg'] === 'http request failed');
    expect(logged).toMatchObject({ level: 50, method: 'GET', path: '/api/lanes' });
    expect(JSON.stringify(logged)).toContain('secret internal detail');
  });

  it('answers a ledger query with 500 JSON when the store has failed', async () => {
    h = await startHarness({ guard: {} });
    const guard = await signIn(h);
    h.store.close();
    const res = await fetch(`${h.url}/api/events`, { headers: guard.get });
    expect(res.status).toBe(500);
    expect((await errorOf(res)).code).toBe('INTERNAL');
  });

  it('does not announce the framework', async () => {
    h = await startHarness();
    const res = await fetch(`${h.url}/api/lanes`);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('listens on the host it was given', async () => {
    h = await startHarness();
    expect(h.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
