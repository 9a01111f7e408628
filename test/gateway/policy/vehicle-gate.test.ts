// The goods-vehicle gate (requirement 10): a vehicle pass decided together with the
// driver's pass. The driver reference must be the pass holder; goods must be essential or
// within the profile's daily limit of non-essential entries per plate.
import { describe, expect, it } from 'vitest';
import { decide } from '../../../gateway/policy/decide.js';
import { compileProfileDocument } from '../../../gateway/policy/profile-document.js';
import { profileFromOverrides } from '../../../gateway/policy/profiles.js';
import { reason } from '../../../gateway/policy/reasons.js';
import { evaluatedFacts, replayVerdict } from '../../../gateway/policy/replay.js';
import type { Category } from '../../../gateway/credentials/types.js';
import type { VehicleAtGate, Verdict } from '../../../gateway/policy/types.js';
import { input, subject } from './fixtures.js';
import { SHIPPED } from './shipped.js';

const GATE = SHIPPED['vehicle-gate'].profile;
const codes = (v: Verdict): string[] => (v.outcome === 'measure' ? [v.reason.code] : v.reasons.map((r) => r.code));
const driver = subject({ id: 'D-1', category: 'driver' });
const vehicle = (over: Partial<VehicleAtGate> = {}): VehicleAtGate => ({ plate: '晋A12345', goods: 'food', driver: 'D-1', goodsToday: [], ...over });
const limited = (n: number) => profileFromOverrides({ ...GATE, vehicle: { essentialGoods: ['food', 'medicine'], nonEssentialPerDay: n } });

describe('decide: the vehicle gate', () => {
  it('ships the vehicle-gate profile with a vehicle rule listing essential goods and one non-essential entry a day', () => {
    expect(GATE.vehicle?.essentialGoods).toContain('food');
    expect(GATE.vehicle?.essentialGoods).toContain('medicine');
    expect(GATE.vehicle?.nonEssentialPerDay).toBe(1);
  });

  it.each<[string, { who?: Category; id?: string; v?: Partial<VehicleAtGate> | null; n?: number }, string, string[]]>([
    ['the named driver with food', {}, 'admit', []],
    ['the named driver with medicine, whatever else the plate did today', { v: { goods: 'medicine', goodsToday: ['toys', 'toys', 'food'] } }, 'admit', []],
    ['another driver than the one named', { id: 'D-2' }, 'refuse', ['VEHICLE_DRIVER_MISMATCH']],
    ['a delivery driver without a vehicle pass', { v: null }, 'refuse', ['VEHICLE_PASS_MISSING']],
    ['an employee without a vehicle pass (mine vehicles)', { who: 'employee', v: null }, 'admit', []],
    ['non-essential goods where the limit is 0', { v: { goods: 'toys' }, n: 0 }, 'refuse', ['VEHICLE_GOODS_NOT_ESSENTIAL']],
    ['the first non-essential entry of the day with a limit of 2', { v: { goods: 'toys', goodsToday: ['food'] }, n: 2 }, 'admit', []],
    ['the second non-essential entry of the day with a limit of 2', { v: { goods: 'toys', goodsToday: ['toys', 'food'] }, n: 2 }, 'admit', []],
    ['the third non-essential entry of the day with a limit of 2', { v: { goods: 'toys', goodsToday: ['toys', 'food', 'furniture'] }, n: 2 }, 'refuse', ['VEHICLE_DAILY_LIMIT']],
    ['another driver with non-essential goods over the limit', { id: 'D-9', v: { goods: 'toys', goodsToday: ['toys'] }, n: 1 }, 'refuse', ['VEHICLE_DRIVER_MISMATCH', 'VEHICLE_DAILY_LIMIT']],
  ])('decides %s', (_label, o, outcome, expected) => {
    const s = subject({ id: o.id ?? 'D-1', category: o.who ?? 'driver' });
    const facts = o.v === null ? {} : { vehicle: vehicle(o.v ?? {}) };
    const v = decide(input({ subject: s, readings: [36.5], facts, profile: o.n === undefined ? GATE : limited(o.n) }));
    expect(v.outcome).toBe(outcome);
    expect(codes(v)).toEqual(expected);
  });

  it('names the daily limit in the refusal and tells the driver what to do next', () => {
    const v = decide(input({ subject: driver, readings: [36.5], facts: { vehicle: vehicle({ goods: 'toys', goodsToday: ['toys'] }) }, profile: GATE }));
    expect(v.outcome === 'refuse' && v.reasons).toEqual([reason('VEHICLE_DAILY_LIMIT', { limit: 1 })]);
    expect(reason('VEHICLE_DAILY_LIMIT', { limit: 1 }).zh).toContain('1次');
    expect(reason('VEHICLE_DAILY_LIMIT').next?.en).toBeTruthy();
  });

  it('refuses a vehicle rule failure even where every other rule is soft', () => {
    const soft = profileFromOverrides({ ...GATE, enforce: { category: 'soft', healthCode: 'soft', travel: 'soft', test: 'soft', approval: 'soft' } });
    const v = decide(input({ subject: driver, readings: [36.5], facts: { vehicle: vehicle({ driver: 'D-2' }) }, profile: soft }));
    expect(v.outcome).toBe('refuse');
    expect(codes(v)).toEqual(['VEHICLE_DRIVER_MISMATCH']);
  });

  it('still refuses the driver on their own health facts when the vehicle pass is in order', () => {
    const sick = subject({ id: 'D-1', category: 'driver', health: { healthCode: 'red' } });
    expect(codes(decide(input({ subject: sick, readings: [36.5], facts: { vehicle: vehicle() }, profile: GATE })))).toEqual(['HEALTH_CODE_RED']);
  });

  it('ignores vehicle facts on a profile without a vehicle rule', () => {
    const office = SHIPPED['mine-entrance'].profile;
    expect(office.vehicle).toBeUndefined();
    expect(decide(input({ subject: subject({ category: 'driver' }), readings: [36.5], facts: { vehicle: vehicle({ driver: 'X' }) }, profile: office })).outcome).toBe('admit');
  });

  it('keeps neither the plate nor the driver id in the evaluated facts, and replays to the same decision', () => {
    for (const v of [vehicle(), vehicle({ driver: 'D-2' }), vehicle({ goods: 'toys', goodsToday: ['toys'] })]) {
      const i = input({ subject: driver, readings: [36.5], facts: { vehicle: v }, profile: GATE });
      const f = evaluatedFacts(i);
      expect(JSON.stringify(f)).not.toMatch(/晋A12345|D-1|D-2/);
      expect(codes(replayVerdict(f, GATE))).toEqual(codes(decide(i)));
    }
  });

  it('rejects a profile document whose vehicle rule lists no essential goods or a negative limit, naming the keys', () => {
    const doc = {
      name: 'v',
      rules: {
        category: { enforce: 'hard', allowed: ['driver'] },
        healthCode: { enforce: 'hard' },
        travel: { enforce: 'hard', lookbackDays: 14 },
        test: { enforce: 'hard', windowHours: 48 },
        temperature: { enforce: 'hard', feverThreshold: 37.3, plausibleMin: 34, plausibleMax: 43, implausibleRetries: 2 },
        watchlist: { enforce: 'hard' },
        approval: { enforce: 'hard', requiredFor: [] },
        vehicle: { enforce: 'soft', essentialGoods: [], nonEssentialPerDay: -1 },
      },
    };
    expect(() => compileProfileDocument(doc, 'v.yaml')).toThrow(/rules\.vehicle\.enforce[\s\S]*rules\.vehicle\.essentialGoods[\s\S]*rules\.vehicle\.nonEssentialPerDay/);
  });
});
