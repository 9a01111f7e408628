// Scheduled zone resets: at each configured local time (China time) the count goes back
// to 0 once, recorded as a correction signed "schedule"; a gateway that was off at that
// time resets once when it starts again.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEDULE_GUARD, ZoneResetSchedule } from '../../../gateway/lane/zone-reset.js';
import { latestTimeOfDay, parseInstant } from '../../../gateway/policy/time.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import type { ZoneCorrection } from '../../../gateway/store/types.js';
import { zoneCorrectedAlert } from '../../../gateway/telemetry/alerts.js';
import { closeAndRemove, freshDir, track } from '../store/helpers.js';

const at = (local: string): number => parseInstant(local);
const ZONES = [{ id: 'canteen', resetAt: ['10:30', '14:00', '20:30'] }, { id: 'office', resetAt: [] }];

afterEach(closeAndRemove);

function setup(dir = freshDir()) {
  const store = track(openStore(dir));
  let now = at('2024-12-04T09:00');
  const resets: ZoneCorrection[] = [];
  const schedule = new ZoneResetSchedule({ store, zones: ZONES, now: () => now, logger: pino({ level: 'silent' }), checkEveryMs: 0, onReset: (c) => resets.push(c) });
  return { dir, store, schedule, resets, setNow: (local: string) => (now = at(local)) };
}

function fill(store: SqliteStore, n: number, from: number): void {
  for (let i = 0; i < n; i++) store.zoneEnter('canteen', `p1_${i}`, from + i);
}

describe('latestTimeOfDay', () => {
  it('finds the latest local time at or before now, yesterday when none has come yet today', () => {
    expect(latestTimeOfDay(at('2024-12-04T14:00'), ['10:30', '14:00'])).toEqual({ at: at('2024-12-04T14:00'), time: '14:00' });
    expect(latestTimeOfDay(at('2024-12-04T13:59:59'), ['10:30', '14:00'])).toEqual({ at: at('2024-12-04T10:30'), time: '10:30' });
    expect(latestTimeOfDay(at('2024-12-04T08:00'), ['14:00', '10:30'])).toEqual({ at: at('2024-12-03T14:00'), time: '14:00' });
    expect(latestTimeOfDay(at('2024-12-04T00:00'), ['00:00'])).toEqual({ at: at('2024-12-04T00:00'), time: '00:00' });
  });

  it('gives null for no times and skips unreadable ones', () => {
    expect(latestTimeOfDay(at('2024-12-04T14:00'), [])).toBeNull();
    expect(latestTimeOfDay(at('2024-12-04T14:00'), ['25:00', '9:00'])).toBeNull();
    expect(latestTimeOfDay(at('2024-12-04T14:00'), ['nope', '12:00'])).toEqual({ at: at('2024-12-04T12:00'), time: '12:00' });
  });
});

describe('scheduled zone resets', () => {
  it('empties the zone once at each reset time, signed "schedule", and frees everyone from anti-passback', () => {
    const { store, schedule, resets, setNow } = setup();
    expect(schedule.check()).toEqual([]); // first sight: no reset at start-up
    fill(store, 5, at('2024-12-04T09:30'));
    setNow('2024-12-04T10:29:59');
    expect(schedule.check()).toEqual([]);
    setNow('2024-12-04T10:30:05');
    const [c, ...more] = schedule.check();
    expect(more).toEqual([]);
    expect(c).toMatchObject({ zone: 'canteen', guard: SCHEDULE_GUARD, from: 5, to: 0, reason: 'scheduled reset 10:30' });
    expect(resets).toEqual([c]);
    expect(zoneCorrectedAlert(resets[0]!, true)).toMatchObject({ kind: 'zone-corrected', severity: 'info', detail: 'zone canteen: 5 → 0, scheduled reset' });
    expect(store.zoneFacts('canteen', 'p1_0')).toEqual({ count: 0, openEntryAt: null });
    setNow('2024-12-04T11:00');
    fill(store, 2, at('2024-12-04T11:00'));
    expect(schedule.check()).toEqual([]);
    expect(store.zoneFacts('canteen', null).count).toBe(2);
    expect(store.zoneCorrections('canteen').map((r) => r.reason)).toEqual(['scheduled reset 10:30']);
  });

  it('leaves a zone without reset times alone', () => {
    const { store, schedule, setNow } = setup();
    schedule.check();
    store.zoneEnter('office', 'p1_a', at('2024-12-04T09:10'));
    setNow('2024-12-05T09:00');
    schedule.check();
    expect(store.zoneFacts('office', null).count).toBe(1);
    expect(store.getMeta('zone.office.lastScheduledReset')).toBeUndefined();
  });

  it('resets once after a stop that spanned reset times, and not again after a restart', () => {
    const first = setup();
    first.schedule.check();
    fill(first.store, 3, at('2024-12-04T09:10'));
    first.store.close();
    // Off from 09:10 until 21:00: 10:30, 14:00 and 20:30 all passed.
    const second = setup(first.dir);
    second.setNow('2024-12-04T21:00');
    expect(second.schedule.check().map((c) => [c.from, c.reason])).toEqual([[3, 'scheduled reset 20:30']]);
    second.store.close();
    const third = setup(first.dir);
    third.setNow('2024-12-04T21:05');
    expect(third.schedule.check()).toEqual([]);
    expect(third.store.zoneCorrections('canteen')).toHaveLength(1);
  });
});
