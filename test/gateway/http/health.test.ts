import { afterEach, describe, expect, it } from 'vitest';
import type { LinkStatus } from '../../../gateway/bus.js';
import { buildHealthReport, type HealthReport } from '../../../gateway/http/health.js';
import { laneHealth, startHarness, T0, TestLane, type Harness } from './helpers.js';

function report(status: HealthReport['status'], lanes: TestLane[]): HealthReport {
  return {
    status,
    version: '1.2.3',
    uptimeS: 42,
    site: 'mine',
    checkpoint: 'gate-1',
    lanes: laneHealth(lanes),
    mqtt: { state: 'connected', url: 'mqtt://127.0.0.1:1883', embedded: false, since: T0 },
    outboxDepth: 3,
  };
}

describe('GET /healthz', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('answers 200 with the report when the gateway is ok', async () => {
    const lanes = [new TestLane('north')];
    h = await startHarness({ lanes, health: () => report('ok', lanes) });
    const res = await fetch(`${h.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual(report('ok', lanes));
  });

  it('answers 503 with the same report when the gateway is degraded', async () => {
    const lanes = [new TestLane('north')];
    h = await startHarness({ lanes, health: () => report('degraded', lanes) });
    const res = await fetch(`${h.url}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as HealthReport).status).toBe('degraded');
  });

  it('asks for a fresh report on every request', async () => {
    const lanes = [new TestLane('north')];
    let status: HealthReport['status'] = 'ok';
    h = await startHarness({ lanes, health: () => report(status, lanes) });
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    status = 'degraded';
    expect((await fetch(`${h.url}/healthz`)).status).toBe(503);
  });
});

describe('buildHealthReport', () => {
  const link = (state: LinkStatus['state']): LinkStatus => ({ state, url: 'mqtt://x', embedded: true, since: T0 });
  const base = {
    version: '1.0.0',
    startedAt: T0,
    now: T0 + 90_500,
    site: 'mine',
    checkpoint: 'canteen',
    outboxDepth: 0,
  };

  it('is ok when every device is connected and the link is up, with uptime in whole seconds', () => {
    const r = buildHealthReport({ ...base, lanes: [new TestLane('a').snapshot()], mqtt: link('connected') });
    expect(r.status).toBe('ok');
    expect(r.uptimeS).toBe(90);
    expect(r.lanes).toEqual([{ id: 'a', state: 'idle', devices: new TestLane('a').snapshot().devices }]);
  });

  it('is degraded when a device is disconnected', () => {
    const s = new TestLane('a').snapshot();
    s.devices.thermometer = { type: 'sim', state: 'disconnected', since: T0, detail: 'unplugged' };
    expect(buildHealthReport({ ...base, lanes: [s], mqtt: null }).status).toBe('degraded');
  });

  it('is degraded when a lane is out of service', () => {
    const s = { ...new TestLane('a').snapshot(), state: 'out-of-service' as const };
    expect(buildHealthReport({ ...base, lanes: [s], mqtt: null }).status).toBe('degraded');
  });

  it('is degraded when the link to the central office is down, but not while it connects', () => {
    const lanes = [new TestLane('a').snapshot()];
    expect(buildHealthReport({ ...base, lanes, mqtt: link('disconnected') }).status).toBe('degraded');
    expect(buildHealthReport({ ...base, lanes, mqtt: link('connecting') }).status).toBe('ok');
  });
});
