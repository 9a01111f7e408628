// A lane on the vehicle-gate profile: the vehicle pass is held until the driver's pass is
// scanned, and the two are decided together. Plate and goods go to the local ledger only.
import { describe, expect, it, vi } from 'vitest';
import type { LaneConfig } from '../../../gateway/config/schema.js';
import { issuePass, issueVehiclePass } from '../../../gateway/credentials/index.js';
import { buildSimLane } from '../../../gateway/gateway.js';
import { laneParts, simLaneConfig, T0, useLaneTestEnv } from './harness.js';
import { VEHICLE_DRIVER_WINDOW_MS } from '../../../gateway/lane/lane.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import type { PolicyProfile } from '../../../gateway/policy/types.js';
import type { LedgerEntry } from '../../../gateway/store/index.js';
import { goodClaims } from '../credentials/fixtures.js';
import { SHIPPED } from '../policy/shipped.js';

const LANE = simLaneConfig('veh-1');
const GATE = SHIPPED['vehicle-gate'].profile;

const env = useLaneTestEnv('vehicle-');

interface Gate {
  vehicle: (plate: string, goods: string, driver: string) => Promise<void>;
  driver: (sub: string) => Promise<LedgerEntry>;
  snapshots: LaneSnapshot[];
}

async function gate(profile: PolicyProfile = GATE, laneConfig: LaneConfig = LANE): Promise<Gate> {
  const snapshots: LaneSnapshot[] = [];
  const parts = buildSimLane(laneParts(env.store, env.issuer.trust, {
    laneConfig,
    profile,
    checkpoint: 'veh',
    onSnapshot: (s) => snapshots.push(s),
  }));
  await parts.lane.start();
  env.onStop(() => parts.lane.stop());
  return {
    snapshots,
    vehicle: async (plate, goods, driver) => {
      parts.scanner.scan(await issueVehiclePass({ plate, goods, driver }, env.issuer.privateJwk, { now: Date.now() }));
      await parts.lane.settled();
    },
    driver: async (sub) => {
      parts.thermometer.reading(36.5);
      parts.scanner.scan(await issuePass(goodClaims({ sub, category: 'driver', name: '王司机', iat: Math.floor(Date.now() / 1000) - 60, exp: Math.floor(Date.now() / 1000) + 3600 }), env.issuer.privateJwk));
      await parts.lane.settled();
      vi.advanceTimersByTime(6000); // the screen goes back to waiting
      return latest();
    },
  };
}

function latest(): LedgerEntry {
  const row = env.store.queryEvents({ limit: 1 })[0];
  if (row === undefined) throw new Error('no ledger row');
  return row;
}
const codes = (row: LedgerEntry) => row.reasons.map((r) => r.code);

describe('a lane on the vehicle gate', () => {
  it("holds a vehicle pass and asks for the driver's pass, writing nothing yet", async () => {
    const g = await gate();
    await g.vehicle('晋A12345', 'food', 'D-1');
    expect(g.snapshots.at(-1)?.prompt).toMatchObject({ code: 'VEHICLE_DRIVER_NEEDED', zh: '请出示司机通行码', en: "Please show the driver's pass" });
    expect(env.store.queryEvents({ limit: 10 })).toEqual([]);
  });

  it('admits the named driver after the vehicle pass and records plate and goods in the ledger', async () => {
    const g = await gate();
    await g.vehicle('晋A12345', 'food', 'D-1');
    const row = await g.driver('D-1');
    expect(row.outcome).toBe('admit');
    expect(row).toMatchObject({ plate: '晋A12345', goods: 'food', category: 'driver' });
  });

  it('never publishes the plate, the goods or the driver name', async () => {
    const g = await gate();
    await g.vehicle('晋A12345', 'toys', 'D-1');
    expect((await g.driver('D-1')).outcome).toBe('admit');
    const payloads = env.store.outboxPending(100).map((r) => r.payload);
    expect(payloads.length).toBeGreaterThan(0);
    for (const p of payloads) expect(p).not.toMatch(/晋A12345|toys|王司机|plate|goods/);
  });

  it('refuses a driver other than the one the vehicle pass names', async () => {
    const g = await gate();
    await g.vehicle('晋A12345', 'food', 'D-1');
    const row = await g.driver('D-2');
    expect(row.outcome).toBe('refuse');
    expect(codes(row)).toEqual(['VEHICLE_DRIVER_MISMATCH']);
    expect(row).toMatchObject({ plate: '晋A12345', goods: 'food' });
  });

  it('refuses a delivery driver who scans without a vehicle pass', async () => {
    const g = await gate();
    const row = await g.driver('D-1');
    expect(codes(row)).toEqual(['VEHICLE_PASS_MISSING']);
    expect(row).not.toHaveProperty('plate');
  });

  it('admits non-essential goods up to the daily limit per plate and refuses the next entry', async () => {
    const g = await gate();
    await g.vehicle('晋A12345', 'toys', 'D-1');
    expect((await g.driver('D-1')).outcome).toBe('admit');
    await g.vehicle('晋A12345', 'toys', 'D-1');
    const over = await g.driver('D-1');
    expect(over.outcome).toBe('refuse');
    expect(codes(over)).toEqual(['VEHICLE_DAILY_LIMIT']);
    // Another plate has its own count; essential goods on the same plate are not limited.
    await g.vehicle('晋B00001', 'toys', 'D-1');
    expect((await g.driver('D-1')).outcome).toBe('admit');
    await g.vehicle('晋A12345', 'medicine', 'D-1');
    expect((await g.driver('D-1')).outcome).toBe('admit');
  });

  it('counts the daily limit per local day: the next day the plate may enter again', async () => {
    const g = await gate();
    await g.vehicle('晋A12345', 'toys', 'D-1');
    expect((await g.driver('D-1')).outcome).toBe('admit');
    vi.setSystemTime(T0 + 24 * 3_600_000);
    await g.vehicle('晋A12345', 'toys', 'D-1');
    expect((await g.driver('D-1')).outcome).toBe('admit');
  });

  it("records a timeout row with plate and goods when no driver's pass follows the vehicle pass", async () => {
    const g = await gate();
    await g.vehicle('晋A12345', 'food', 'D-1');
    vi.advanceTimersByTime(VEHICLE_DRIVER_WINDOW_MS);
    const row = latest();
    expect(row).toMatchObject({ kind: 'timeout', outcome: 'refer', plate: '晋A12345', goods: 'food' });
    expect(codes(row)).toEqual(['VEHICLE_DRIVER_TIMEOUT']);
    expect(g.snapshots.at(-1)?.prompt).toBeNull();
  });

  it("waits for the driver as long as the lane's vehicleDriverWindowMs says", async () => {
    const g = await gate(GATE, { ...LANE, vehicleDriverWindowMs: 120_000 });
    await g.vehicle('晋A12345', 'food', 'D-1');
    vi.advanceTimersByTime(VEHICLE_DRIVER_WINDOW_MS);
    expect(env.store.queryEvents({ limit: 1 })).toEqual([]);
    vi.advanceTimersByTime(60_000);
    expect(codes(latest())).toEqual(['VEHICLE_DRIVER_TIMEOUT']);
  });

  it('refers a vehicle pass scanned on a lane whose profile has no vehicle rule', async () => {
    const g = await gate(MINE_ENTRANCE);
    await g.vehicle('晋A12345', 'food', 'D-1');
    const row = latest();
    expect(row.outcome).toBe('refer');
    expect(codes(row)).toEqual(['VEHICLE_PASS_NOT_HERE']);
  });
});
