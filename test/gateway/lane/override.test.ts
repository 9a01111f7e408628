import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildSimLane } from '../../../gateway/gateway.js';
import { laneParts, simLaneConfig, T0 } from './harness.js';
import { LaneOverrideError } from '../../../gateway/lane/lane.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { overrideReason } from '../../../gateway/policy/reasons.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import type { AlertRecord } from '../../../gateway/store/types.js';
import { goodClaims, testIssuer } from '../credentials/fixtures.js';
import { freshDir, removeDirs } from '../store/helpers.js';
import { issuePass } from '../../../gateway/credentials/index.js';

const laneConfig = simLaneConfig('in-1', { name: '入口 1' });

let store: SqliteStore;
let alerts: AlertRecord[];
let snapshots: LaneSnapshot[];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(T0);
  store = openStore(freshDir('lane-override-'));
  alerts = [];
  snapshots = [];
});
afterEach(async () => {
  vi.useRealTimers();
  store.close();
  removeDirs();
});

async function setup() {
  const issuer = await testIssuer();
  const parts = buildSimLane(laneParts(store, issuer.trust, {
    laneConfig,
    onSnapshot: (s) => snapshots.push(s),
    recordAlert: (a) => {
      alerts.push(a);
      store.appendAlert(a, () => null);
    },
  }));
  await parts.lane.start();
  return { ...parts, issuer };
}

describe('guard override on a lane', () => {
  it('writes the ledger row under the guard id, raises a guard-override alert, and pulses the relay once', async () => {
    const { lane, relay } = await setup();
    const why = overrideReason('OVERRIDE_IDENTITY_VERIFIED');
    const result = await lane.override('G-01', why, '当面核实身份证');
    expect(result.pulsed).toBe(true);
    expect(relay.pulses).toEqual([{ at: expect.any(Number), ms: 700 }]);
    const [row] = store.queryEvents({ limit: 10 });
    expect(row).toMatchObject({ kind: 'override', outcome: 'admit', actor: 'G-01', note: '当面核实身份证', reasons: [why], lane: 'in-1' });
    expect(row?.id).toBe(result.event.id);
    expect(alerts).toEqual([
      expect.objectContaining({ kind: 'guard-override', lane: 'in-1', severity: 'warning', code: 'OVERRIDE_IDENTITY_VERIFIED', eventId: row?.id }),
    ]);
    expect(alerts[0]?.detail).toContain('G-01');
    expect(store.unackedAlertCount()).toBe(1);
    // The kiosk shows the gate opening, without a name.
    expect(snapshots.at(-1)?.last).toMatchObject({ outcome: 'admit', maskedName: null, eventId: row?.id });
  });

  it('refuses while the relay is down, writing nothing and pulsing nothing', async () => {
    const { lane, relay } = await setup();
    relay.setState('disconnected');
    const err = await lane.override('G-01', overrideReason('OVERRIDE_DEVICE_FAULT'), 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LaneOverrideError);
    expect((err as LaneOverrideError).code).toBe('RELAY_DOWN');
    expect(store.queryEvents({})).toEqual([]);
    expect(relay.pulses).toEqual([]);
    expect(alerts).toEqual([]);
  });

  it('refuses while a person is being measured', async () => {
    const { lane, scanner, issuer } = await setup();
    scanner.scan(await issuePass(goodClaims(), issuer.privateJwk));
    await lane.settled();
    expect(lane.snapshot().state).toBe('measuring');
    const err = await lane.override('G-01', overrideReason('OVERRIDE_OTHER'), 'x').catch((e: unknown) => e);
    expect((err as LaneOverrideError).code).toBe('LANE_BUSY');
  });

  it('records a fault row when the relay does not take the pulse', async () => {
    const { lane, relay } = await setup();
    relay.failCommands = true;
    const result = await lane.override('G-01', overrideReason('OVERRIDE_RESCUE'), '抢险');
    expect(result.pulsed).toBe(false);
    expect(store.queryEvents({ limit: 10 }).map((e) => [e.kind, e.reasons[0]?.code])).toEqual([
      ['fault', 'RELAY_FAILED'],
      ['override', 'OVERRIDE_RESCUE'],
    ]);
  });
});
