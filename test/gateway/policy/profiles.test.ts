import { describe, expect, it } from 'vitest';
import { CATEGORIES } from '../../../gateway/credentials/types.js';
import {
  MINE_ENTRANCE,
  PolicyProfileError,
  profileFromOverrides,
  validateProfile,
  type ProfileIssueCode,
  type ProfileOverrides,
} from '../../../gateway/policy/profiles.js';

function issuesOf(overrides: unknown): { path: string; code: ProfileIssueCode }[] {
  try {
    profileFromOverrides(overrides as ProfileOverrides);
  } catch (err) {
    if (err instanceof PolicyProfileError) return err.issues.map(({ path, code }) => ({ path, code }));
    throw err;
  }
  return [];
}

describe('policy profiles', () => {
  it('gives the mine entrance the rules of the source', () => {
    expect(MINE_ENTRANCE).toEqual({
      name: 'mine-entrance',
      testWindowHours: 48,
      testWindowHoursByCategory: {},
      feverThreshold: 37.3,
      plausibleMin: 34,
      plausibleMax: 43,
      implausibleRetries: 2,
      riskLookbackDays: 14,
      approvalRequiredFor: ['visitor'],
      allowedCategories: [...CATEGORIES],
    });
    expect(validateProfile(MINE_ENTRANCE)).toEqual([]);
  });

  it('freezes the default so no lane can change the rules in place', () => {
    expect(Object.isFrozen(MINE_ENTRANCE)).toBe(true);
    expect(Object.isFrozen(MINE_ENTRANCE.allowedCategories)).toBe(true);
    expect(() => MINE_ENTRANCE.allowedCategories.push('visitor')).toThrow(TypeError);
  });

  it('returns the default when there is nothing to override', () => {
    expect(profileFromOverrides({})).toEqual(MINE_ENTRANCE);
    expect(profileFromOverrides()).toEqual(MINE_ENTRANCE);
  });

  it('merges category windows key by key and replaces category lists', () => {
    const base = profileFromOverrides({ testWindowHoursByCategory: { driver: 72 } });
    const p = profileFromOverrides({ testWindowHoursByCategory: { vendor: 24 }, allowedCategories: ['employee', 'family', 'employee'] }, base);
    expect(p.testWindowHoursByCategory).toEqual({ driver: 72, vendor: 24 });
    expect(p.allowedCategories).toEqual(['employee', 'family']);
    expect(p.approvalRequiredFor).toEqual(['visitor']);
  });

  it('keeps values that are not overridden and ignores keys set to undefined', () => {
    const p = profileFromOverrides({ feverThreshold: 37.5, testWindowHours: undefined, name: 'canteen' });
    expect(p).toMatchObject({ name: 'canteen', feverThreshold: 37.5, testWindowHours: 48, plausibleMin: 34 });
  });

  it.each<[string, unknown, { path: string; code: ProfileIssueCode }[]]>([
    ['rejects a fever threshold above the plausible range', { feverThreshold: 43.5, plausibleMax: 43 }, [{ path: 'feverThreshold', code: 'THRESHOLD_OUTSIDE_PLAUSIBLE' }]],
    ['rejects a fever threshold at the plausible minimum', { feverThreshold: 35, plausibleMin: 35 }, [{ path: 'feverThreshold', code: 'THRESHOLD_OUTSIDE_PLAUSIBLE' }]],
    ['rejects a plausible range upside down', { plausibleMin: 43, plausibleMax: 34 }, [{ path: 'plausibleMin', code: 'PLAUSIBLE_RANGE_INVERTED' }]],
    ['rejects a threshold in Fahrenheit', { feverThreshold: 99.5 }, [{ path: 'feverThreshold', code: 'OUT_OF_RANGE' }]],
    ['rejects a test window of zero hours', { testWindowHours: 0 }, [{ path: 'testWindowHours', code: 'OUT_OF_RANGE' }]],
    ['rejects a negative category window', { testWindowHoursByCategory: { driver: -1 } }, [{ path: 'testWindowHoursByCategory.driver', code: 'OUT_OF_RANGE' }]],
    ['rejects a window for a category that does not exist', { testWindowHoursByCategory: { pilot: 12 } }, [{ path: 'testWindowHoursByCategory.pilot', code: 'UNKNOWN_CATEGORY' }]],
    ['rejects fractional retries', { implausibleRetries: 1.5 }, [{ path: 'implausibleRetries', code: 'NOT_AN_INTEGER' }]],
    ['rejects negative retries', { implausibleRetries: -1 }, [{ path: 'implausibleRetries', code: 'OUT_OF_RANGE' }]],
    ['rejects a look-back of zero days', { riskLookbackDays: 0 }, [{ path: 'riskLookbackDays', code: 'OUT_OF_RANGE' }]],
    ['rejects a number given as text', { testWindowHours: '48' }, [{ path: 'testWindowHours', code: 'NOT_A_NUMBER' }]],
    ['rejects NaN', { feverThreshold: Number.NaN }, [{ path: 'feverThreshold', code: 'NOT_A_NUMBER' }]],
    ['rejects an unknown category', { approvalRequiredFor: ['visitor', 'tourist'] }, [{ path: 'approvalRequiredFor.1', code: 'UNKNOWN_CATEGORY' }]],
    ['rejects a checkpoint that admits nobody', { allowedCategories: [] }, [{ path: 'allowedCategories', code: 'EMPTY' }]],
    ['rejects a category list given as a string', { allowedCategories: 'employee' }, [{ path: 'allowedCategories', code: 'NOT_A_CATEGORY_LIST' }]],
    ['rejects a misspelt key', { feverThreshhold: 37.5 }, [{ path: 'feverThreshhold', code: 'UNKNOWN_KEY' }]],
    ['rejects overrides that are not an object', [37.5], [{ path: '', code: 'NOT_AN_OBJECT' }]],
    ['rejects an empty name', { name: '  ' }, [{ path: 'name', code: 'NOT_A_STRING' }]],
  ])('%s', (_n, overrides, expected) => {
    expect(issuesOf(overrides)).toEqual(expected);
  });

  it('lists every problem at once, with a stable code and the key path in the message', () => {
    let caught: unknown;
    try {
      profileFromOverrides({ testWindowHours: -5, riskLookbackDays: 2.5, allowedCategories: [] });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PolicyProfileError);
    const err = caught as PolicyProfileError;
    expect(err.code).toBe('POLICY_PROFILE_INVALID');
    expect(err.issues.map((i) => i.path)).toEqual(['testWindowHours', 'riskLookbackDays', 'allowedCategories']);
    expect(err.message).toMatch(/^POLICY_PROFILE_INVALID: 3 problem/);
    expect(err.message).toContain('testWindowHours: expected above 0 and at most 720 hours, got -5');
  });

  it('finds the problems of a complete profile built by hand', () => {
    expect(validateProfile({ ...MINE_ENTRANCE, plausibleMax: 37 }).map((i) => i.code)).toEqual(['THRESHOLD_OUTSIDE_PLAUSIBLE']);
  });
});
