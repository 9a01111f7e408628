// Policy profiles: the default rules of the mine entrance, and overrides from config.
// Validation here is the last line before decide(): decide() trusts the profile, so a
// nonsense value (a fever threshold the thermometer can never reach as "plausible", a
// Fahrenheit number) must stop the gateway at start, not quietly admit everyone.
import { CATEGORIES, GOODS_PATTERN, type Category } from '../credentials/types.js';
import { CodedError } from '../errors.js';
import { HEALTH_CHECKS, SOFT_RULES, type DccRule, type EnforceMap, type HealthChecks, type PolicyProfile, type VehicleRule } from './types.js';

/** The source's rules: 48 h test, 37.3 °C, 14 days, visitors need an approval. */
export const MINE_ENTRANCE: PolicyProfile = deepFreeze({
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

/**
 * What an EU DCC stands for when a profile says nothing: a nucleic-acid test certificate
 * (the source's rule is a recent nucleic-acid test); rapid antigen tests, vaccination and
 * recovery certificates are not accepted. The vaccination window is the EU's: counted from
 * 14 days after the last dose, for 270 days.
 */
export const DCC_DEFAULTS: DccRule = deepFreeze({
  acceptTest: true,
  acceptRapidAntigen: false,
  acceptVaccination: false,
  acceptRecovery: false,
  vaccinationMinDays: 14,
  vaccinationMaxDays: 270,
});

/** The DCC rule a profile decides with: its own, else the defaults. */
export function dccRuleOf(profile: Pick<PolicyProfile, 'dcc'>): DccRule {
  return profile.dcc ?? DCC_DEFAULTS;
}

const DCC_KEYS = Object.keys(DCC_DEFAULTS) as (keyof DccRule)[];
const DCC_FLAGS = ['acceptTest', 'acceptRapidAntigen', 'acceptVaccination', 'acceptRecovery'] as const;

/** What config may override; every key optional, objects merged, arrays replaced. */
export type ProfileOverrides = {
  [K in Exclude<keyof PolicyProfile, 'dcc'>]?: PolicyProfile[K] | undefined;
} & {
  /** Merged key by key over the base profile's DCC rule (or DCC_DEFAULTS). */
  dcc?: Partial<DccRule> | undefined;
};

export type ProfileIssueCode =
  | 'UNKNOWN_KEY'
  | 'NOT_AN_OBJECT'
  | 'NOT_A_STRING'
  | 'NOT_A_NUMBER'
  | 'NOT_AN_INTEGER'
  | 'OUT_OF_RANGE'
  | 'NOT_A_CATEGORY_LIST'
  | 'UNKNOWN_CATEGORY'
  | 'EMPTY'
  | 'PLAUSIBLE_RANGE_INVERTED'
  | 'THRESHOLD_OUTSIDE_PLAUSIBLE'
  | 'NOT_AN_ENFORCEMENT'
  | 'NOT_ON_OR_OFF'
  | 'NOT_A_BOOLEAN';

export interface ProfileIssue {
  /** Key path inside the profile, e.g. "testWindowHoursByCategory.visitor". */
  path: string;
  code: ProfileIssueCode;
  /** What was expected, for a person fixing the config. */
  message: string;
}

/** Thrown when a profile makes no sense; lists every problem at once. */
export class PolicyProfileError extends CodedError<'POLICY_PROFILE_INVALID'> {
  readonly issues: readonly ProfileIssue[];
  constructor(issues: ProfileIssue[]) {
    super(
      'POLICY_PROFILE_INVALID',
      `POLICY_PROFILE_INVALID: ${issues.length} problem(s) in the policy profile: ` +
        issues.map((i) => `${i.path}: ${i.message} [${i.code}]`).join('; '),
    );
    this.issues = issues;
  }
}

// Absolute sanity bounds. Body temperatures in °C; anything outside means a unit mix-up.
const TEMP_MIN = 20;
const TEMP_MAX = 50;
const MAX_TEST_WINDOW_HOURS = 24 * 30;
const MAX_RETRIES = 10;
const MAX_LOOKBACK_DAYS = 365;

const KEYS: readonly (keyof PolicyProfile)[] = [
  'name',
  'testWindowHours',
  'testWindowHoursByCategory',
  'feverThreshold',
  'plausibleMin',
  'plausibleMax',
  'implausibleRetries',
  'riskLookbackDays',
  'approvalRequiredFor',
  'allowedCategories',
  'enforce',
  'enforceByCategory',
  'vehicle',
  'healthChecks',
  'dcc',
];

/**
 * A validated profile: `base` (default MINE_ENTRANCE) with `overrides` on top.
 * `testWindowHoursByCategory` is merged key by key; category lists replace the base's.
 * Throws PolicyProfileError listing every problem. Accepts untyped data (parsed YAML)
 * too: every value is checked at run time.
 */
export function profileFromOverrides(overrides: ProfileOverrides = {}, base: PolicyProfile = MINE_ENTRANCE): PolicyProfile {
  const issues: ProfileIssue[] = [];
  const o: Record<string, unknown> = isRecord(overrides) ? overrides : {};
  if (!isRecord(overrides)) issues.push({ path: '', code: 'NOT_AN_OBJECT', message: 'expected an object of overrides' });
  for (const key of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      issues.push({ path: key, code: 'UNKNOWN_KEY', message: `unknown key; expected one of ${KEYS.join(', ')}` });
    }
  }
  const pick = <K extends keyof PolicyProfile>(k: K): unknown => (o[k] === undefined ? base[k] : o[k]);
  const byCategory = o.testWindowHoursByCategory;
  const dcc = o.dcc;
  const merged = {
    name: pick('name'),
    testWindowHours: pick('testWindowHours'),
    testWindowHoursByCategory:
      byCategory === undefined
        ? { ...base.testWindowHoursByCategory }
        : isRecord(byCategory)
          ? { ...base.testWindowHoursByCategory, ...byCategory }
          : byCategory,
    feverThreshold: pick('feverThreshold'),
    plausibleMin: pick('plausibleMin'),
    plausibleMax: pick('plausibleMax'),
    implausibleRetries: pick('implausibleRetries'),
    riskLookbackDays: pick('riskLookbackDays'),
    approvalRequiredFor: pick('approvalRequiredFor'),
    allowedCategories: pick('allowedCategories'),
    enforce: pick('enforce'),
    enforceByCategory: pick('enforceByCategory'),
    vehicle: pick('vehicle'),
    healthChecks: pick('healthChecks'),
    dcc: dcc === undefined ? base.dcc : isRecord(dcc) ? { ...dccRuleOf(base), ...dcc } : dcc,
  };
  const profile = checkProfile(merged, issues);
  if (issues.length > 0 || !profile) throw new PolicyProfileError(issues);
  return deepFreeze(profile);
}

/** Every problem with a complete profile; empty when it is usable. */
export function validateProfile(profile: PolicyProfile): ProfileIssue[] {
  const issues: ProfileIssue[] = [];
  checkProfile({ enforce: undefined, enforceByCategory: undefined, vehicle: undefined, healthChecks: undefined, dcc: undefined, ...profile }, issues);
  return issues;
}

function checkProfile(p: Record<keyof PolicyProfile, unknown>, issues: ProfileIssue[]): PolicyProfile | null {
  const start = issues.length;
  if (typeof p.name !== 'string' || p.name.trim() === '') {
    issues.push({ path: 'name', code: 'NOT_A_STRING', message: 'expected a non-empty name' });
  }
  number(issues, 'testWindowHours', p.testWindowHours, { gt: 0, max: MAX_TEST_WINDOW_HOURS, unit: 'hours' });
  if (!isRecord(p.testWindowHoursByCategory)) {
    issues.push({ path: 'testWindowHoursByCategory', code: 'NOT_AN_OBJECT', message: 'expected a map of category to hours' });
  } else {
    for (const [cat, hours] of Object.entries(p.testWindowHoursByCategory)) {
      const path = `testWindowHoursByCategory.${cat}`;
      if (!isCategory(cat)) issues.push({ path, code: 'UNKNOWN_CATEGORY', message: `expected one of ${CATEGORIES.join(', ')}` });
      else if (hours !== undefined) number(issues, path, hours, { gt: 0, max: MAX_TEST_WINDOW_HOURS, unit: 'hours' });
    }
  }
  const tOk = [
    number(issues, 'feverThreshold', p.feverThreshold, { min: TEMP_MIN, max: TEMP_MAX, unit: '°C' }),
    number(issues, 'plausibleMin', p.plausibleMin, { min: TEMP_MIN, max: TEMP_MAX, unit: '°C' }),
    number(issues, 'plausibleMax', p.plausibleMax, { min: TEMP_MIN, max: TEMP_MAX, unit: '°C' }),
  ];
  if (tOk.every(Boolean)) {
    const thr = p.feverThreshold as number;
    const min = p.plausibleMin as number;
    const max = p.plausibleMax as number;
    if (!(min < max)) {
      issues.push({ path: 'plausibleMin', code: 'PLAUSIBLE_RANGE_INVERTED', message: `expected plausibleMin (${min}) below plausibleMax (${max})` });
    } else if (!(min < thr && thr <= max)) {
      // A threshold outside the plausible range would make fever unreachable (or every reading one).
      issues.push({
        path: 'feverThreshold',
        code: 'THRESHOLD_OUTSIDE_PLAUSIBLE',
        message: `expected feverThreshold (${thr}) above plausibleMin (${min}) and at most plausibleMax (${max})`,
      });
    }
  }
  number(issues, 'implausibleRetries', p.implausibleRetries, { min: 0, max: MAX_RETRIES, integer: true, unit: 'readings' });
  number(issues, 'riskLookbackDays', p.riskLookbackDays, { min: 1, max: MAX_LOOKBACK_DAYS, integer: true, unit: 'days' });
  categories(issues, 'approvalRequiredFor', p.approvalRequiredFor, false);
  categories(issues, 'allowedCategories', p.allowedCategories, true);
  enforceMap(issues, 'enforce', p.enforce);
  if (p.enforceByCategory !== undefined) {
    if (!isRecord(p.enforceByCategory)) {
      issues.push({ path: 'enforceByCategory', code: 'NOT_AN_OBJECT', message: 'expected a map of category to rule enforcement' });
    } else {
      for (const [cat, map] of Object.entries(p.enforceByCategory)) {
        const path = `enforceByCategory.${cat}`;
        if (!isCategory(cat)) issues.push({ path, code: 'UNKNOWN_CATEGORY', message: `expected one of ${CATEGORIES.join(', ')}` });
        else enforceMap(issues, path, map);
      }
    }
  }
  if (p.vehicle !== undefined) vehicleRule(issues, p.vehicle);
  if (p.dcc !== undefined) dccRule(issues, p.dcc);
  if (p.healthChecks !== undefined && !(HEALTH_CHECKS as readonly unknown[]).includes(p.healthChecks)) {
    issues.push({ path: 'healthChecks', code: 'NOT_ON_OR_OFF', message: `expected on or off, got ${String(p.healthChecks)}` });
  }
  if (issues.length > start) return null;
  // Normal form, so equal rules give equal profiles (and hashes): profile-wide, only soft
  // rules are listed (hard is the default); per category, only what differs from that.
  const wide = softOnly(p.enforce as EnforceMap | undefined);
  const byCategory: NonNullable<PolicyProfile['enforceByCategory']> = {};
  for (const [cat, map] of Object.entries((p.enforceByCategory ?? {}) as Record<string, EnforceMap | undefined>)) {
    const differs = Object.fromEntries(
      Object.entries(map ?? {}).filter(([rule, e]) => e !== undefined && e !== (wide[rule as keyof EnforceMap] ?? 'hard')),
    ) as EnforceMap;
    if (Object.keys(differs).length > 0) byCategory[cat as Category] = differs;
  }
  const enforcement: Pick<PolicyProfile, 'enforce' | 'enforceByCategory'> = {};
  if (Object.keys(wide).length > 0) enforcement.enforce = wide;
  if (Object.keys(byCategory).length > 0) enforcement.enforceByCategory = byCategory;
  return {
    name: (p.name as string).trim(),
    testWindowHours: p.testWindowHours as number,
    testWindowHoursByCategory: Object.fromEntries(
      Object.entries(p.testWindowHoursByCategory as Record<string, unknown>).filter(([, v]) => v !== undefined),
    ) as PolicyProfile['testWindowHoursByCategory'],
    feverThreshold: p.feverThreshold as number,
    plausibleMin: p.plausibleMin as number,
    plausibleMax: p.plausibleMax as number,
    implausibleRetries: p.implausibleRetries as number,
    riskLookbackDays: p.riskLookbackDays as number,
    approvalRequiredFor: [...new Set(p.approvalRequiredFor as Category[])],
    allowedCategories: [...new Set(p.allowedCategories as Category[])],
    ...enforcement,
    // Only on a vehicle gate, so every other profile (and its hash) is as before.
    ...(p.vehicle === undefined
      ? {}
      : {
          vehicle: {
            essentialGoods: [...new Set((p.vehicle as VehicleRule).essentialGoods)],
            nonEssentialPerDay: (p.vehicle as VehicleRule).nonEssentialPerDay,
          },
        }),
    // Only when off, so every profile with health checks keeps its hash.
    ...(p.healthChecks === 'off' ? { healthChecks: 'off' as const } : {}),
    // Only when it differs from the defaults, so every profile without it keeps its hash.
    ...(p.dcc === undefined || sameDccRule(p.dcc as DccRule, DCC_DEFAULTS) ? {} : { dcc: normalDccRule(p.dcc as DccRule) }),
  };
}

function normalDccRule(r: DccRule): DccRule {
  return Object.fromEntries(DCC_KEYS.map((k) => [k, r[k]])) as unknown as DccRule;
}

function sameDccRule(a: DccRule, b: DccRule): boolean {
  return DCC_KEYS.every((k) => a[k] === b[k]);
}

function dccRule(issues: ProfileIssue[], v: unknown): void {
  if (!isRecord(v)) {
    issues.push({ path: 'dcc', code: 'NOT_AN_OBJECT', message: `expected {${DCC_KEYS.join(', ')}}` });
    return;
  }
  for (const key of Object.keys(v)) {
    if (!(DCC_KEYS as string[]).includes(key)) issues.push({ path: `dcc.${key}`, code: 'UNKNOWN_KEY', message: `unknown key; expected one of ${DCC_KEYS.join(', ')}` });
  }
  for (const flag of DCC_FLAGS) {
    if (typeof v[flag] !== 'boolean') issues.push({ path: `dcc.${flag}`, code: 'NOT_A_BOOLEAN', message: `expected true or false, got ${String(v[flag])}` });
  }
  const min = number(issues, 'dcc.vaccinationMinDays', v.vaccinationMinDays, { min: 0, max: 365, integer: true, unit: 'days' });
  const max = number(issues, 'dcc.vaccinationMaxDays', v.vaccinationMaxDays, { min: 1, max: 3650, integer: true, unit: 'days' });
  if (min && max && !((v.vaccinationMinDays as number) < (v.vaccinationMaxDays as number))) {
    issues.push({
      path: 'dcc.vaccinationMinDays',
      code: 'OUT_OF_RANGE',
      message: `expected vaccinationMinDays (${String(v.vaccinationMinDays)}) below vaccinationMaxDays (${String(v.vaccinationMaxDays)})`,
    });
  }
}

/** `on` unless the profile turns health checks off. */
export function healthChecksOf(profile: Pick<PolicyProfile, 'healthChecks'>): HealthChecks {
  return profile.healthChecks === 'off' ? 'off' : 'on';
}

/**
 * The profile a lane decides with under the gateway's `policy.healthChecks`: with `off`,
 * the profile with health checks off (its name kept, its hash changed, so the ledger
 * tells the two apart); with `on`, the profile as written (an access-only profile stays
 * access-only). Frozen, like every profile.
 */
export function underHealthChecks(profile: PolicyProfile, gateway: HealthChecks): PolicyProfile {
  if (gateway === 'on' || profile.healthChecks === 'off') return profile;
  return deepFreeze({ ...profile, healthChecks: 'off' as const });
}

function vehicleRule(issues: ProfileIssue[], v: unknown): void {
  if (!isRecord(v)) {
    issues.push({ path: 'vehicle', code: 'NOT_AN_OBJECT', message: 'expected {essentialGoods, nonEssentialPerDay}' });
    return;
  }
  for (const key of Object.keys(v)) {
    if (key !== 'essentialGoods' && key !== 'nonEssentialPerDay') {
      issues.push({ path: `vehicle.${key}`, code: 'UNKNOWN_KEY', message: 'unknown key; expected essentialGoods or nonEssentialPerDay' });
    }
  }
  const goods = v.essentialGoods;
  if (!Array.isArray(goods) || goods.some((g) => typeof g !== 'string' || !GOODS_PATTERN.test(g))) {
    issues.push({ path: 'vehicle.essentialGoods', code: 'NOT_A_STRING', message: 'expected a list of goods category ids (lowercase letters, digits and "-")' });
  } else if (goods.length === 0) {
    issues.push({ path: 'vehicle.essentialGoods', code: 'EMPTY', message: 'expected at least one essential goods category' });
  }
  number(issues, 'vehicle.nonEssentialPerDay', v.nonEssentialPerDay, { min: 0, max: 1000, integer: true, unit: 'entries per plate per day' });
}

function softOnly(map: EnforceMap | undefined): EnforceMap {
  return Object.fromEntries(Object.entries(map ?? {}).filter(([, e]) => e === 'soft')) as EnforceMap;
}

function enforceMap(issues: ProfileIssue[], path: string, v: unknown): void {
  if (v === undefined) return;
  if (!isRecord(v)) {
    issues.push({ path, code: 'NOT_AN_OBJECT', message: `expected a map of rule (${SOFT_RULES.join(', ')}) to hard or soft` });
    return;
  }
  for (const [rule, e] of Object.entries(v)) {
    if (!(SOFT_RULES as readonly string[]).includes(rule)) {
      // Watchlist and temperature are not listed on purpose: they are always hard.
      issues.push({ path: `${path}.${rule}`, code: 'UNKNOWN_KEY', message: `expected one of ${SOFT_RULES.join(', ')} (watchlist and temperature are always hard)` });
    } else if (e !== undefined && e !== 'hard' && e !== 'soft') {
      issues.push({ path: `${path}.${rule}`, code: 'NOT_AN_ENFORCEMENT', message: `expected hard or soft, got ${String(e)}` });
    }
  }
}

interface NumberRule {
  min?: number;
  gt?: number;
  max: number;
  integer?: boolean;
  unit: string;
}

function number(issues: ProfileIssue[], path: string, v: unknown, rule: NumberRule): boolean {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    issues.push({ path, code: 'NOT_A_NUMBER', message: `expected a number (${rule.unit})` });
    return false;
  }
  if (rule.integer && !Number.isInteger(v)) {
    issues.push({ path, code: 'NOT_AN_INTEGER', message: `expected a whole number (${rule.unit}), got ${v}` });
    return false;
  }
  const low = rule.gt !== undefined ? v <= rule.gt : rule.min !== undefined && v < rule.min;
  if (low || v > rule.max) {
    const lower = rule.gt !== undefined ? `above ${rule.gt}` : `at least ${rule.min}`;
    issues.push({ path, code: 'OUT_OF_RANGE', message: `expected ${lower} and at most ${rule.max} ${rule.unit}, got ${v}` });
    return false;
  }
  return true;
}

function categories(issues: ProfileIssue[], path: string, v: unknown, nonEmpty: boolean): void {
  if (!Array.isArray(v)) {
    issues.push({ path, code: 'NOT_A_CATEGORY_LIST', message: `expected a list of categories (${CATEGORIES.join(', ')})` });
    return;
  }
  v.forEach((c: unknown, i) => {
    if (typeof c !== 'string' || !isCategory(c)) {
      issues.push({ path: `${path}.${i}`, code: 'UNKNOWN_CATEGORY', message: `expected one of ${CATEGORIES.join(', ')}, got ${String(c)}` });
    }
  });
  if (nonEmpty && v.length === 0) issues.push({ path, code: 'EMPTY', message: 'expected at least one category' });
}

function isCategory(s: string): s is Category {
  return (CATEGORIES as readonly string[]).includes(s);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Profiles are shared by every lane: freeze them so no caller can change the rules in place. */
function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
