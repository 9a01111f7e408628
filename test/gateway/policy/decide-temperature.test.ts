import { describe, expect, it } from 'vitest';
import { decide } from '../../../gateway/policy/decide.js';
import { MINE_ENTRANCE, profileFromOverrides } from '../../../gateway/policy/profiles.js';
import type { Outcome, Verdict } from '../../../gateway/policy/types.js';
import { input, subject } from './fixtures.js';

type Expected = { outcome: Outcome | 'measure'; code: string | null; temperature?: number };

function summary(v: Verdict): Expected {
  if (v.outcome === 'measure') return { outcome: 'measure', code: v.reason.code };
  const s: Expected = { outcome: v.outcome, code: v.reasons[0]?.code ?? null };
  if (v.temperature !== undefined) s.temperature = v.temperature;
  return s;
}

const admit = (t: number): Expected => ({ outcome: 'admit', code: null, temperature: t });
const measure = (code: string): Expected => ({ outcome: 'measure', code });

describe('decide: temperature (rule 4)', () => {
  it.each<[string, number[], Expected]>([
    ['asks for a measurement when there is no reading', [], measure('TEMP_NEEDED')],
    ['admits 36.6', [36.6], admit(36.6)],
    ['admits 37.29 without a recheck', [37.29], admit(37.29)],
    ['asks for a recheck at 37.30', [37.3], measure('TEMP_RECHECK')],
    ['asks for a recheck at 37.3 computed with float error (36.1 + 1.2)', [36.1 + 1.2], measure('TEMP_RECHECK')],
    ['asks for a recheck at 37.295, which rounds to 37.30', [37.295], measure('TEMP_RECHECK')],
    ['admits when the recheck is below the threshold', [37.5, 37.1], admit(37.1)],
    ['refuses when the recheck confirms the fever', [37.5, 37.3], { outcome: 'refuse', code: 'TEMP_FEVER', temperature: 37.3 }],
    ['treats 33.99 as implausible and asks again', [33.99], measure('TEMP_IMPLAUSIBLE_REMEASURE')],
    ['trusts 34.00, the lowest plausible reading', [34.0], admit(34)],
    ['trusts 43.00, the highest plausible reading, and asks for a recheck', [43.0], measure('TEMP_RECHECK')],
    ['treats 43.01 as implausible and asks again', [43.01], measure('TEMP_IMPLAUSIBLE_REMEASURE')],
    ['treats a NaN reading as implausible', [Number.NaN], measure('TEMP_IMPLAUSIBLE_REMEASURE')],
    ['treats an infinite reading as implausible', [Number.POSITIVE_INFINITY], measure('TEMP_IMPLAUSIBLE_REMEASURE')],
    ['asks again after the second implausible reading (2 retries)', [20, 33], measure('TEMP_IMPLAUSIBLE_REMEASURE')],
    ['refers to the guard after the third implausible reading', [20, 33, 45], { outcome: 'refer', code: 'TEMP_IMPLAUSIBLE' }],
    ['admits a plausible reading after implausible ones', [20, 33, 36.4], admit(36.4)],
    ['counts implausible readings across a recheck', [20, 37.6, 33, 50], { outcome: 'refer', code: 'TEMP_IMPLAUSIBLE' }],
    ['does not take an implausible reading as a fever confirmation', [37.5, 50], measure('TEMP_IMPLAUSIBLE_REMEASURE')],
    ['refuses a fever confirmed after an implausible reading in between', [37.5, 50, 37.6], { outcome: 'refuse', code: 'TEMP_FEVER', temperature: 37.6 }],
    ['asks for a recheck when only an implausible reading came before', [50, 37.5], measure('TEMP_RECHECK')],
  ])('%s', (_name, readings, expected) => {
    expect(summary(decide(input({ readings })))).toEqual(expected);
  });

  describe('readings the thermometer flagged invalid (out of its range)', () => {
    /** `null` stands for an out-of-range answer (LU90614 FF FF), a number for a reading. */
    const withInvalid = (values: (number | null)[]) => {
      const base = input({ readings: values.map((v) => v ?? 0) });
      return { ...base, readings: base.readings.map((r, i) => (values[i] === null ? { celsius: Number.NaN, at: r.at, invalid: 'OUT_OF_RANGE' } : r)) };
    };
    it.each<[string, (number | null)[], Expected]>([
      ['asks for a re-measure at once after the first invalid reading', [null], measure('TEMP_READING_INVALID_REMEASURE')],
      ['refers with TEMP_READING_INVALID when the re-measure is invalid too', [null, null], { outcome: 'refer', code: 'TEMP_READING_INVALID' }],
      ['admits a normal reading after one invalid reading', [null, 36.5], admit(36.5)],
      ['does not count an invalid reading as a fever confirmation', [37.6, null], measure('TEMP_READING_INVALID_REMEASURE')],
      ['refers on a second invalid reading even with a plausible one in between', [null, 37.6, null], { outcome: 'refer', code: 'TEMP_READING_INVALID' }],
    ])('%s', (_name, values, expected) => {
      expect(summary(decide(withInvalid(values)))).toEqual(expected);
    });

    it('says in both languages what happened and what to do next', () => {
      const v = decide(withInvalid([null, null]));
      expect(v).toMatchObject({ outcome: 'refer', reasons: [{ code: 'TEMP_READING_INVALID', zh: '测温仪读数无效', en: 'The thermometer gave no valid reading', next: { zh: expect.any(String), en: expect.any(String) } }] });
    });
  });

  it('refers at once on an implausible reading when the profile allows no retries', () => {
    const profile = profileFromOverrides({ implausibleRetries: 0 });
    expect(summary(decide(input({ readings: [30], profile })))).toEqual({ outcome: 'refer', code: 'TEMP_IMPLAUSIBLE' });
  });

  it('raises a critical fever alert and shows the temperature on a confirmed fever', () => {
    const v = decide(input({ readings: [38.2, 38.4] }));
    expect(v).toMatchObject({ outcome: 'refuse', alerts: [{ kind: 'fever', severity: 'critical', code: 'TEMP_FEVER' }] });
    if (v.outcome === 'measure') throw new Error('unreachable');
    expect(v.reasons[0]?.zh).toContain('38.4');
  });

  it('shows the first reading in the recheck prompt', () => {
    const v = decide(input({ readings: [37.3] }));
    expect(v.outcome === 'measure' && v.reason.zh).toBe('体温37.3℃，请再测一次');
  });

  it('refuses a visitor with a confirmed fever and raises a visitor-refused alert too', () => {
    const v = decide(
      input({
        subject: subject({ category: 'visitor' }),
        facts: { approvals: [{ subjectId: 'P-0001', approver: '王主任', hostDepartment: '机电科', validFrom: '2021-12-20', validUntil: '2021-12-21' }] },
        readings: [37.8, 37.9],
      }),
    );
    expect(v).toMatchObject({ outcome: 'refuse', reasons: [{ code: 'TEMP_FEVER' }] });
    if (v.outcome === 'measure') throw new Error('unreachable');
    expect(v.alerts.map((a) => a.kind)).toEqual(['fever', 'visitor-refused']);
  });

  it('uses the threshold of the profile', () => {
    const profile = profileFromOverrides({ feverThreshold: 37.5 });
    expect(summary(decide(input({ readings: [37.4], profile })))).toEqual(admit(37.4));
    expect(summary(decide(input({ readings: [37.4], profile: MINE_ENTRANCE })))).toEqual(measure('TEMP_RECHECK'));
  });
});
