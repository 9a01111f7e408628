import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildSimLane } from '../../../gateway/gateway.js';
import { laneParts, simLaneConfig, T0 } from './harness.js';
import type { Lane } from '../../../gateway/lane/lane.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { openStore } from '../../../gateway/store/index.js';
import type { Store } from '../../../gateway/store/types.js';
import { goodClaims, testIssuer } from '../credentials/fixtures.js';
import { freshDir, removeDirs } from '../store/helpers.js';
import { issuePass } from '../../../gateway/credentials/index.js';

const WINDOW = 10_000;
const laneConfig = simLaneConfig('in-1', { name: '入口 1', temperatureWindowMs: WINDOW });

let dir: string;
let store: Store;
let snapshots: LaneSnapshot[];

async function setup() {
  const issuer = await testIssuer();
  const parts = buildSimLane(laneParts(store, issuer.trust, {
    laneConfig,
    onSnapshot: (s) => snapshots.push(s),
  }));
  await parts.lane.start();
  current = parts.lane;
  const pass = (over: Parameters<typeof goodClaims>[0] = {}) => issuePass(goodClaims(over), issuer.privateJwk);
  return { ...parts, pass };
}

let current: Lane | null = null;
/** Wait (in real time) until the lane has decoded and evaluated the latest scan. */
async function settle(): Promise<void> {
  await current?.settled();
}

function ledger() {
  return store.queryEvents({ limit: 100 }).reverse();
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(T0);
  dir = freshDir('lane-');
  store = openStore(dir);
  snapshots = [];
});

afterEach(() => {
  vi.useRealTimers();
  store.close();
  removeDirs();
});

describe('a lane with simulated devices', () => {
  it('admits a good pass with a normal reading taken just before the scan and pulses the relay once', async () => {
    const { scanner, thermometer, relay, lane, pass } = await setup();
    thermometer.reading(36.5);
    vi.advanceTimersByTime(2000);
    scanner.scan(await pass());
    await settle();

    const rows = ledger();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'admit', temperature: 36.5, credential: 'health-pass', category: 'employee', kind: 'decision' });
    expect(rows[0]?.subjectRef).toMatch(/^p1_/);
    expect(relay.pulses).toEqual([{ at: T0 + 2000, ms: 700 }]);
    expect(lane.snapshot()).toMatchObject({ state: 'showing', last: { outcome: 'admit', maskedName: '李***', temperature: 36.5 } });
    expect(store.outboxDepth()).toBe(1);
  });

  it('asks for a measurement after the scan and decides when the reading arrives', async () => {
    const { scanner, thermometer, relay, lane, pass } = await setup();
    scanner.scan(await pass());
    await settle();
    expect(lane.snapshot()).toMatchObject({ state: 'measuring', prompt: { code: 'TEMP_NEEDED' } });
    expect(thermometer.measureRequests).toBe(1);
    expect(ledger()).toHaveLength(0);

    vi.advanceTimersByTime(3000);
    thermometer.reading(36.8);
    expect(ledger()).toMatchObject([{ outcome: 'admit', temperature: 36.8 }]);
    await settle();
    expect(relay.pulses).toHaveLength(1);
  });

  it('does not pair a reading older than the window with the scan', async () => {
    const { scanner, thermometer, lane, pass } = await setup();
    thermometer.reading(36.5);
    vi.advanceTimersByTime(WINDOW + 1);
    scanner.scan(await pass());
    await settle();
    expect(lane.snapshot().state).toBe('measuring');
  });

  it('re-measures a first fever reading and refuses when it is confirmed, without opening the gate', async () => {
    const { scanner, thermometer, relay, lane, pass } = await setup();
    thermometer.reading(37.6);
    scanner.scan(await pass());
    await settle();
    expect(lane.snapshot()).toMatchObject({ state: 'measuring', prompt: { code: 'TEMP_RECHECK' } });
    thermometer.reading(37.5);
    await settle();
    const [row] = ledger();
    expect(row).toMatchObject({ outcome: 'refuse', temperature: 37.5 });
    expect(row?.reasons.map((r) => r.code)).toEqual(['TEMP_FEVER']);
    expect(row?.alerts).toContainEqual(expect.objectContaining({ kind: 'fever' }));
    expect(relay.pulses).toEqual([]);
  });

  it('records a timeout and returns to idle when no reading arrives within the window', async () => {
    const { scanner, relay, lane, pass } = await setup();
    scanner.scan(await pass());
    await settle();
    vi.advanceTimersByTime(WINDOW - 1);
    expect(ledger()).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(ledger()).toMatchObject([{ kind: 'timeout', outcome: 'refer', reasons: [{ code: 'TEMP_TIMEOUT' }] }]);
    expect(relay.pulses).toEqual([]);
    vi.advanceTimersByTime(5000);
    expect(lane.snapshot().state).toBe('idle');
  });

  it('shows a decision for showMs after the latest one, then waits again', async () => {
    const { scanner, thermometer, lane, pass } = await setup();
    thermometer.reading(36.5);
    scanner.scan(await pass());
    await settle();
    vi.advanceTimersByTime(4000); // showMs is 5000
    thermometer.reading(36.6);
    scanner.scan(await pass({ sub: 'p-000124' }));
    await settle();
    vi.advanceTimersByTime(4999);
    expect(lane.snapshot()).toMatchObject({ state: 'showing', last: { temperature: 36.6 } });
    vi.advanceTimersByTime(1);
    expect(lane.snapshot().state).toBe('idle');
    thermometer.reading(36.7);
    scanner.scan(await pass({ sub: 'p-000125' }));
    await settle();
    expect(lane.snapshot().state).toBe('showing');
    vi.advanceTimersByTime(5000);
    expect(lane.snapshot().state).toBe('idle');
  });

  it('refuses a red-code pass at once, without waiting for a temperature', async () => {
    const { scanner, relay, lane, pass } = await setup();
    scanner.scan(await pass({ healthCode: 'red' }));
    await settle();
    expect(ledger()).toMatchObject([{ outcome: 'refuse', reasons: [{ code: 'HEALTH_CODE_RED' }] }]);
    expect(lane.snapshot().state).toBe('showing');
    expect(relay.pulses).toEqual([]);
  });

  it('handles one person at a time: a second scan during a measurement is ignored', async () => {
    const { scanner, thermometer, pass } = await setup();
    scanner.scan(await pass());
    await settle();
    scanner.scan(await pass({ sub: 'someone-else', name: '王五' }));
    await settle();
    thermometer.reading(36.4);
    const rows = ledger();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.subjectName).toBe('李娜 Li Na');
  });

  it('refers an unknown QR code to the guard', async () => {
    const { scanner, relay } = await setup();
    scanner.scan('https://example.com/not-a-pass');
    await settle();
    expect(ledger()).toMatchObject([{ outcome: 'refer', credential: 'unknown', reasons: [{ code: 'CREDENTIAL_UNKNOWN' }] }]);
    expect(relay.pulses).toEqual([]);
  });

  it('gives each ledger row an id that sorts by the row\'s time: a UUID version 7 carrying it', async () => {
    const { scanner } = await setup();
    // Later scans at earlier-sorting random ids would show: 30 rows, 7 s apart (past showMs).
    for (let i = 0; i < 30; i++) {
      scanner.scan(`not-a-pass-${i}`);
      await settle();
      vi.advanceTimersByTime(7_000);
    }
    const rows = ledger();
    expect(rows).toHaveLength(30);
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(parseInt(row.id.replaceAll('-', '').slice(0, 12), 16)).toBe(row.at); // its first 48 bits: the row's time, ms
    }
    expect(rows.map((r) => r.id)).toEqual(rows.map((r) => r.id).sort());
    expect(new Set(rows.map((r) => r.id)).size).toBe(30);
  });

  it('admits a staff badge found in the roster, using the roster health fields', async () => {
    const { scanner, thermometer, relay } = await setup();
    store.rosterUpsert([
      {
        staffId: 'E1001',
        name: '赵六',
        category: 'employee',
        health: {
          healthCode: 'green',
          travel: { riskLevel: 'none', visits: [], asOf: '2024-01-09T00:00:00Z' },
          test: { result: 'negative', sampledAt: '2024-01-09T06:00:00Z' },
        },
        active: true,
        updatedAt: T0 - 1000,
      },
    ]);
    thermometer.reading(36.2);
    scanner.scan('CPB1:E1001');
    await settle();
    expect(ledger()).toMatchObject([{ outcome: 'admit', credential: 'staff-badge', subjectName: '赵六' }]);
    expect(relay.pulses).toHaveLength(1);
  });

  it('goes out of service while a device is down, refers every scan, and resumes by itself', async () => {
    const { scanner, thermometer, relay, lane, pass } = await setup();
    thermometer.setState('disconnected', 'unplugged');
    expect(lane.snapshot().state).toBe('out-of-service');
    scanner.scan(await pass());
    await settle();
    expect(ledger()).toMatchObject([{ outcome: 'refer', reasons: [{ code: 'DEVICE_DOWN_THERMOMETER' }], alerts: [{ kind: 'device-fault' }] }]);
    expect(relay.pulses).toEqual([]);

    thermometer.setState('connected');
    expect(lane.snapshot().state).toBe('idle');
    thermometer.reading(36.6);
    scanner.scan(await pass());
    await settle();
    expect(ledger().at(-1)).toMatchObject({ outcome: 'admit' });
  });

  it('refers a passage in progress when its thermometer fails mid-measurement', async () => {
    const { scanner, thermometer, relay, lane, pass } = await setup();
    scanner.scan(await pass());
    await settle();
    thermometer.setState('fault', 'sensor error');
    expect(ledger()).toMatchObject([{ outcome: 'refer', reasons: [{ code: 'DEVICE_DOWN_THERMOMETER' }] }]);
    expect(lane.snapshot().state).toBe('out-of-service');
    expect(relay.pulses).toEqual([]);
  });

  it('records a fault and tells the guard when the relay does not take the open command', async () => {
    const { scanner, thermometer, relay, pass } = await setup();
    relay.failCommands = true;
    thermometer.reading(36.5);
    scanner.scan(await pass());
    await settle();
    expect(ledger()).toMatchObject([
      { kind: 'decision', outcome: 'admit' },
      { kind: 'fault', outcome: 'refer', reasons: [{ code: 'RELAY_FAILED' }], alerts: [{ kind: 'gate-held', severity: 'critical' }] },
    ]);
  });

  it('holds the gate when the ledger cannot be written', async () => {
    const { scanner, thermometer, relay, lane, pass } = await setup();
    store.close();
    thermometer.reading(36.5);
    scanner.scan(await pass());
    await settle();
    expect(relay.pulses).toEqual([]);
    expect(lane.snapshot().last).toMatchObject({ outcome: 'refer', reasons: [{ code: 'LEDGER_FAILED' }] });
    store = openStore(dir); // for afterEach
  });

  it('closes the relay at start and emits a snapshot on every change', async () => {
    const { relay, lane } = await setup();
    expect(relay.allOffCount).toBe(1);
    expect(snapshots.at(-1)).toEqual(lane.snapshot());
    await lane.stop();
    expect(relay.allOffCount).toBe(2);
  });
});
