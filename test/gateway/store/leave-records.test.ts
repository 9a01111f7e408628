// Store schema 7 and the roster CSV: leave records (destination, out, back) per staff id,
// imported with the roster row they come with.
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, StoreError, openStore, parseRosterCsv, type RosterEntry } from '../../../gateway/store/index.js';
import { closeAndRemove, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

const NOW = Date.parse('2022-12-05T09:00:00+08:00');
function worker(over: Partial<RosterEntry> = {}): RosterEntry {
  return { staffId: 'E-1', name: '张伟', category: 'employee', health: { healthCode: 'green' }, active: true, updatedAt: NOW, ...over };
}

describe('leave records in the store', () => {
  it('keeps each trip of a worker, and a later import of the same trip fills in the return', () => {
    const store = track(openStore(freshDir()));
    store.rosterUpsert([worker({ leave: { destination: '西安', out: '2022-11-01', back: '2022-11-05' } })]);
    store.rosterUpsert([worker({ leave: { destination: '榆林', out: '2022-12-01', back: null } })]);
    store.rosterUpsert([worker({ leave: { destination: '榆林', out: '2022-12-01', back: '2022-12-04' } })]);
    expect(store.leaveFor('E-1')).toEqual([
      { staffId: 'E-1', destination: '西安', out: '2022-11-01', back: '2022-11-05' },
      { staffId: 'E-1', destination: '榆林', out: '2022-12-01', back: '2022-12-04' },
    ]);
    expect(store.rosterGet('E-1')).not.toHaveProperty('leave');
    expect(store.leaveFor('E-2')).toEqual([]);
  });

  it('refuses a return before the day out, and a zone-less time, writing nothing', () => {
    const store = track(openStore(freshDir()));
    for (const leave of [
      { destination: '西安', out: '2022-12-03', back: '2022-12-01' },
      { destination: '西安', out: '2022-12-03T08:00:00', back: null },
    ]) {
      expect(() => store.rosterUpsert([worker({ leave })])).toThrowError(StoreError);
    }
    expect(store.rosterGet('E-1')).toBeUndefined();
  });

  it('opens a file of schema 6 and imports the roster without its leave', () => {
    const store = track(openStore(freshDir(), { migrations: MIGRATIONS.slice(0, 6) }));
    store.rosterUpsert([worker({ leave: { destination: '西安', out: '2022-11-01', back: null } })]);
    expect(store.rosterGet('E-1')?.name).toBe('张伟');
    expect(store.leaveFor('E-1')).toEqual([]);
  });
});

describe('leave columns of the roster CSV', () => {
  const header = 'staff_id,name,category,health_code,test_result,test_sampled_at,travel_risk,travel_as_of,leave_destination,leave_out,leave_back\n';

  it('reads a trip with and without a return, and a row without one', () => {
    const { entries, errors } = parseRosterCsv(
      `${header}E-1,张伟,employee,green,,,,,西安,2022-11-28,2022-12-03\nE-2,王芳,employee,green,,,,,榆林,2022-12-01T08:00:00+08:00,\nE-3,李娜,employee,green,,,,,,,\n`,
      NOW,
    );
    expect(errors).toEqual([]);
    expect(entries.map((e) => e.leave)).toEqual([
      { destination: '西安', out: '2022-11-28', back: '2022-12-03' },
      { destination: '榆林', out: '2022-12-01T08:00:00+08:00', back: null },
      undefined,
    ]);
  });

  it('still reads a file without the leave columns', () => {
    const { entries, errors } = parseRosterCsv('staff_id,name,category,health_code,test_result,test_sampled_at,travel_risk,travel_as_of\nE-1,张伟,employee,green,,,,\n', NOW);
    expect(errors).toEqual([]);
    expect(entries[0]).not.toHaveProperty('leave');
  });

  it('reports a half-given trip, a bad date and a return before the day out, by line and column', () => {
    const { errors } = parseRosterCsv(
      `${header}E-1,张伟,employee,green,,,,,西安,,\nE-2,王芳,employee,green,,,,,西安,1 Dec,\nE-3,李娜,employee,green,,,,,西安,2022-12-03,2022-12-01\nE-4,赵六,employee,green,,,,,,,2022-12-01\n`,
      NOW,
    );
    expect(errors.map((e) => [e.line, e.column])).toEqual([
      [2, 'leave_out'],
      [3, 'leave_out'],
      [4, 'leave_back'],
      [5, 'leave_out'],
    ]);
    expect(errors[1]?.message).toContain('expected an ISO date');
    expect(errors[2]?.message).toContain('expected a return on or after leave_out');
  });
});
