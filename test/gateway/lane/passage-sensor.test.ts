// A passage sensor (a beam across the lane) counts a zone's people on its lane: each
// person through the beam moves the count, admitted or not, and the lane's admissions
// only mark who is inside (for anti-passback). A dead sensor does not close the lane.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../gateway/config/load.js';
import { laneZone, laneZones } from '../../../gateway/lane/zone-gate.js';
import type { ZoneRule } from '../../../gateway/policy/zones.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { DeviceAlerts } from '../../../gateway/telemetry/alerts.js';
import { startSensedLane, useLaneTestEnv } from './harness.js';

const env = useLaneTestEnv('sensor-');
const RULE: ZoneRule = { id: 'bathhouse', limit: 2, antiPassback: 'hard', windowMinutes: null };

async function sensedLane(id: string, direction: 'in' | 'out') {
  const snapshots: LaneSnapshot[] = [];
  const l = await startSensedLane(env, id, { zone: laneZone(env.store, RULE, direction, 'sensor'), onSnapshot: (s) => snapshots.push(s) });
  return { ...l, snapshots, scan: (sub: string) => l.pass(sub) };
}

const count = () => env.store.zoneFacts('bathhouse', null).count;

describe('a zone counted by passage sensors', () => {
  it('counts people through the entry beam, a tailgater included, and holds the next entry at the limit', async () => {
    const entry = await sensedLane('in-1', 'in');
    expect((await entry.scan('p-1'))?.outcome).toBe('admit');
    expect(count()).toBe(0); // admitted, not yet through the gate
    entry.sensor.pass();
    entry.sensor.pass(); // someone slipped through behind p-1
    expect(count()).toBe(2);
    const held = await entry.scan('p-2');
    expect(held).toMatchObject({ outcome: 'refer', reasons: [{ code: 'ZONE_FULL' }] });
    expect(env.store.zoneFacts('bathhouse', 'p1_x').openEntryAt).toBeNull();
  });

  it('marks an admitted person inside for anti-passback without counting them twice', async () => {
    const entry = await sensedLane('in-1', 'in');
    await entry.scan('p-1');
    entry.sensor.pass();
    const again = await entry.scan('p-1');
    expect(again).toMatchObject({ outcome: 'refuse', reasons: [{ code: 'ANTI_PASSBACK' }] });
    expect(count()).toBe(1);
  });

  it('counts out at the exit beam whether or not the person scanned out, and the scan frees them for anti-passback', async () => {
    const entry = await sensedLane('in-1', 'in');
    const exit = await sensedLane('out-1', 'out');
    await entry.scan('p-1');
    entry.sensor.pass();
    await entry.scan('p-2');
    entry.sensor.pass();
    expect(count()).toBe(2);
    expect((await exit.scan('p-1'))?.outcome).toBe('admit');
    expect(count()).toBe(2); // the scan alone moves nobody
    exit.sensor.pass();
    exit.sensor.pass(); // p-2 left without scanning
    expect(count()).toBe(0);
    expect((await entry.scan('p-1'))?.outcome).toBe('admit'); // p-1 scanned out, so may come back
    expect((await entry.scan('p-2'))?.outcome).toBe('refuse'); // p-2 did not
  });

  it("shows on the entry lane's snapshot how full the zone is (the kiosk's waiting line), and nothing on the exit lane", async () => {
    const entry = await sensedLane('in-1', 'in');
    const exit = await sensedLane('out-1', 'out');
    expect(entry.lane.snapshot().zone).toEqual({ id: 'bathhouse', count: 0, limit: 2, full: false, text: { zh: '已有0人，限2人', en: '0 of 2 inside' } });
    entry.sensor.pass();
    entry.sensor.pass();
    expect(entry.lane.snapshot().zone).toMatchObject({ count: 2, full: true, text: { zh: '已满员（2人，限2人），请稍候', en: 'Full (2 of 2), please wait' } });
    expect(exit.lane.snapshot()).not.toHaveProperty('zone');
  });

  it('keeps the lane in service when the sensor is unplugged, and raises a device alert for it', async () => {
    const entry = await sensedLane('in-1', 'in');
    const raised: string[] = [];
    const alerts = new DeviceAlerts((a) => raised.push(`${a.code}: ${a.detail}`));
    alerts.observe(entry.lane.snapshot());
    entry.lane.sim?.setDeviceState?.('sensor', 'disconnected');
    const snap = entry.lane.snapshot();
    expect(snap.state).not.toBe('out-of-service');
    expect(snap.devices.sensor?.state).toBe('disconnected');
    alerts.observe(snap);
    expect(raised).toEqual([expect.stringMatching(/^DEVICE_DOWN_SENSOR: passage sensor disconnected: the zone's count is not kept/)]);
    expect((await entry.scan('p-1'))?.outcome).toBe('admit');
    expect(entry.sensor.pass()).toBe(false); // an unplugged sensor sees nobody
    expect(count()).toBe(0);
  });

  it('makes a zone lane with a passage sensor count by the sensor, one without by admissions', () => {
    const loaded = parseConfig(
      `site: s
checkpoint: c
dataDir: data
privacy: { pseudonymSecretFile: secret }
trust: { passIssuersDir: trust }
policy: { zones: [{ id: bathhouse, entryLanes: [in-1], exitLanes: [out-1] }] }
lanes:
  - { id: in-1, scanner: { type: sim }, thermometer: { type: sim }, relay: { type: sim } }
  - { id: out-1, scanner: { type: sim }, thermometer: { type: sim }, relay: { type: sim }, passageSensor: { type: sim } }
`,
      '/x/g.yaml',
    );
    const zones = laneZones(loaded, env.store);
    expect(zones.get('in-1')?.countedBy).toBe('admission');
    expect(zones.get('out-1')?.countedBy).toBe('sensor');
  });
});
