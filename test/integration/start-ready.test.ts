// What the gateway process promises at its "ready" line: HTTP answers at once (the app is
// built just after the line; a request that comes first waits for it), the MQTT link then
// connects, and a stop from the line on is a clean one (exit 0), even while the link and
// the HTTP app are still being started.
import { afterEach, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from './helpers.js';

let gw: GatewayProcess | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

describe('gateway process at its ready line', () => {
  it('answers HTTP from the ready line on, then connects its MQTT link', async () => {
    gw = await startGatewayProcess({ site: `ready-${process.pid}` });
    const res = await fetch(`${gw.url}/api/lanes`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { lanes: unknown[] }).lanes.length).toBeGreaterThan(0);
    const health = await fetch(`${gw.url}/healthz`);
    expect(health.status).toBe(200);
    // The link started after the line: it reaches the broker (127.0.0.1:1883 or its own).
    const started = gw;
    await expect
      .poll(() => started.logs.some((l) => l.includes('mqtt: connected')), { timeout: 10_000 })
      .toBe(true);
  });

  it('stops cleanly on SIGTERM sent at the ready line', async () => {
    gw = await startGatewayProcess({ site: `ready-stop-${process.pid}` });
    const code = await gw.stop();
    const logs = gw.logs.join('\n');
    gw = undefined;
    expect(code).toBe(0);
    expect(logs).toContain('"msg":"stopping"');
  });
});
