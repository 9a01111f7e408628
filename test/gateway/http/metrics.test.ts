import { afterEach, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../../gateway/http/health.js';
import type { LedgerEntry } from '../../../gateway/store/types.js';
import { laneHealth, ledgerRow, startHarness, T0, TestLane, type Harness } from './helpers.js';

const TOKEN = 'a'.repeat(20) + '-metrics-token-for-tests';
const scrape = (h: Harness): Promise<Response> => fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });

function reportWith(lanes: TestLane[], over: Partial<HealthReport> = {}): HealthReport {
  const [first, ...rest] = laneHealth(lanes);
  return {
    status: 'ok',
    version: '1.2.3',
    uptimeS: 1,
    site: 'mine',
    checkpoint: 'gate-1',
    lanes: [
      { ...first!, state: 'out-of-service', counters: { scanner: { bytesDiscarded: 17, badFrames: 2 }, thermometer: null, relay: { replyTimeouts: 1 } } },
      ...rest,
    ],
    mqtt: { state: 'connected', url: 'mqtt://127.0.0.1:1883', embedded: false, since: T0 },
    outboxDepth: 5,
    ...over,
  };
}

function row(lane: string, outcome: LedgerEntry['outcome']): LedgerEntry {
  return ledgerRow({ id: `e-${Math.random()}`, lane, outcome });
}

describe('GET /metrics', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('exposes lane, device, driver-counter, outbox and link figures in the Prometheus text format', async () => {
    const lanes = [new TestLane('north'), new TestLane('south')];
    h = await startHarness({ lanes, health: () => reportWith(lanes), metricsToken: TOKEN });
    const res = await scrape(h);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('checkpoint_lane_in_service{lane="north"} 0');
    expect(text).toContain('checkpoint_lane_in_service{lane="south"} 1');
    expect(text).toMatch(/checkpoint_device_connected\{lane="south",device="scanner",type="[^"]+"\} [01]/);
    expect(text).toContain('checkpoint_device_counter{lane="north",device="scanner",counter="bytesDiscarded"} 17');
    expect(text).toContain('checkpoint_device_counter{lane="north",device="relay",counter="replyTimeouts"} 1');
    expect(text).toContain('checkpoint_outbox_depth 5');
    expect(text).toContain('checkpoint_mqtt_connected 1');
  });

  it('counts ledger rows by lane and outcome from the bus', async () => {
    const lanes = [new TestLane('north')];
    h = await startHarness({ lanes, health: () => reportWith(lanes, { mqtt: null }), metricsToken: TOKEN });
    h.bus.emit('ledger', row('north', 'admit'));
    h.bus.emit('ledger', row('north', 'admit'));
    h.bus.emit('ledger', row('north', 'refuse'));
    const text = await (await scrape(h)).text();
    expect(text).toContain('checkpoint_decisions_total{lane="north",kind="decision",outcome="admit"} 2');
    expect(text).toContain('checkpoint_decisions_total{lane="north",kind="decision",outcome="refuse"} 1');
    expect(text).toContain('checkpoint_mqtt_connected 0');
  });
});
