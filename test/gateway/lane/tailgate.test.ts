// A lane's passage sensor also tells the guard when more people went through than were
// admitted (tailgating, a forced gate): one admission lets one person cross the beam.
import { describe, expect, it, vi } from 'vitest';
import { PASSAGE_AFTER_ADMISSION_MS } from '../../../gateway/lane/lane.js';
import { laneZone } from '../../../gateway/lane/zone-gate.js';
import type { LaneZone } from '../../../gateway/lane/zone-gate.js';
import type { AlertRecord } from '../../../gateway/store/types.js';
import { startSensedLane, useLaneTestEnv } from './harness.js';

const env = useLaneTestEnv('tailgate-');

async function lane(zone?: LaneZone) {
  const alerts: AlertRecord[] = [];
  const l = await startSensedLane(env, 'in-1', { recordAlert: (a) => alerts.push(a), ...(zone ? { zone } : {}) });
  return { alerts, sensor: l.sensor, admit: (sub: string) => l.pass(sub, 1000) };
}

const kinds = (alerts: AlertRecord[]) => alerts.map((a) => `${a.kind}:${a.code}`);

describe('tailgate alerts from the passage sensor', () => {
  it('lets one person through per admission and raises an alert for the one behind', async () => {
    const l = await lane();
    await l.admit('p-1');
    l.sensor.pass();
    expect(l.alerts).toEqual([]);
    l.sensor.pass();
    expect(kinds(l.alerts)).toEqual(['tailgate:PASSAGE_WITHOUT_ADMISSION']);
    expect(l.alerts[0]).toMatchObject({ lane: 'in-1', severity: 'warning', eventId: null });
  });

  it('raises an alert for a crossing long after the last admission (the admitted person turned back)', async () => {
    const l = await lane();
    await l.admit('p-1');
    vi.advanceTimersByTime(PASSAGE_AFTER_ADMISSION_MS);
    l.sensor.pass();
    expect(kinds(l.alerts)).toEqual(['tailgate:PASSAGE_WITHOUT_ADMISSION']);
  });

  it('stays quiet at an exit lane, where people leave without scanning', async () => {
    const l = await lane(laneZone(env.store, { id: 'canteen', limit: null, antiPassback: 'off', windowMinutes: null }, 'out', 'sensor'));
    l.sensor.pass();
    l.sensor.pass();
    expect(l.alerts).toEqual([]);
  });
});
