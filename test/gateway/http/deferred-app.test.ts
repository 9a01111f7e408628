// The gateway's start listens before the HTTP app is built (express, metrics and the API
// schemas come after its "ready" line): requests that come before the app are answered
// once it is built, and an app that cannot be built answers 500 and says why in the log.
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayBus } from '../../../gateway/bus.js';
import { ledgerRow, startHarness, type Harness } from './helpers.js';

const TOKEN = 'a'.repeat(20) + '-metrics-token-for-tests';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('HTTP server with the app built after listening', () => {
  it('answers requests that came before the app was built, each as the app would', async () => {
    h = await startHarness({ deferApp: true });
    const url = h.url;
    // Several at once, before anything asked for the app: all wait for the one build.
    const [lanes, health, missing] = await Promise.all([fetch(`${url}/api/lanes`), fetch(`${url}/healthz`), fetch(`${url}/no-such-route`)]);
    expect(lanes.status).toBe(200);
    expect(((await lanes.json()) as { lanes: { lane: string }[] }).lanes.map((l) => l.lane)).toEqual(['north', 'south']);
    expect(health.status).toBe(200);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    // app() after a request built it: the same app, nothing built twice.
    await h.server.app();
    expect((await fetch(`${url}/api/lanes`)).status).toBe(200);
  });

  it('builds the app when asked, before any request', async () => {
    h = await startHarness({ deferApp: true, metricsToken: TOKEN });
    await h.server.app();
    // The app counts decisions from the bus from its build on: this one only if app() built it.
    h.bus.emit('ledger', ledgerRow());
    const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('checkpoint_decisions_total{lane="north",kind="decision",outcome="admit"} 1');
  });

  it('answers 500 and logs why when the app cannot be built', async () => {
    const broken = Object.create(GatewayBus.prototype) as GatewayBus;
    Object.defineProperty(broken, 'on', {
      value: () => {
        throw new Error('this bus takes no subscribers');
      },
    });
    h = await startHarness({ deferApp: true, bus: broken });
    const res = await fetch(`${h.url}/api/lanes`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INTERNAL');
    const logged = h.logs().find((l) => l['msg'] === 'http app could not be built');
    expect((logged?.['err'] as { message?: string } | undefined)?.message).toBe('this bus takes no subscribers');
    await expect(h.server.app()).rejects.toThrow('this bus takes no subscribers');
  });
});
