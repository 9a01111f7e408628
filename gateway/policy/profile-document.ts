// A checkpoint profile as data: the document shape of config/profiles/*.yaml (and of the
// central office's policy update), validated with every problem listed at once, and
// compiled to the PolicyProfile that decide() reads. Pure: the caller reads the file.
import { z } from 'zod';
import { CATEGORIES, GOODS_PATTERN, type Category } from '../credentials/types.js';
import { CodedError } from '../errors.js';
import { PolicyProfileError, profileFromOverrides, type ProfileOverrides } from './profiles.js';
import type { DccRule, EnforceMap, PolicyProfile, SoftRule } from './types.js';

const category = z.enum(CATEGORIES);
const enforce = z.enum(['hard', 'soft'], { error: 'expected hard (refuse) or soft (admit, record, alert)' });
// Watchlist and temperature have no soft mode: a soft watchlist would admit the people
// the office ordered kept out, and a fever is the one thing every post must stop.
const hardOnly = z.literal('hard', { error: 'expected hard: this rule cannot be soft' });
const hours = z.number({ error: 'expected a number of hours' }).positive('expected more than 0 hours').max(24 * 30, 'expected at most 720 hours');
const celsius = z.number({ error: 'expected °C as a number' }).min(20, 'expected at least 20 °C (°C, not °F)').max(50, 'expected at most 50 °C (°C, not °F)');

const rules = z.strictObject({
  category: z.strictObject({ enforce, allowed: z.array(category).min(1, 'expected at least one category') }),
  // The four health rules may be left out only with `healthChecks: off` (checked below).
  /** Soft applies to a yellow code only: red is always refused. */
  healthCode: z.strictObject({ enforce }).optional(),
  travel: z
    .strictObject({
      enforce,
      /** A stay in a medium/high area while it was listed counts for this many days after. */
      lookbackDays: z.number({ error: 'expected a number of days' }).int('expected whole days').min(1, 'expected at least 1 day').max(365, 'expected at most 365 days'),
    })
    .optional(),
  /** Soft applies to a missing, old or unreadable test only: positive is always refused. */
  test: z.strictObject({ enforce, windowHours: hours }).optional(),
  temperature: z
    .strictObject({
      enforce: hardOnly,
      feverThreshold: celsius,
      plausibleMin: celsius,
      plausibleMax: celsius,
      implausibleRetries: z.number({ error: 'expected a count' }).int('expected a whole number').min(0).max(10, 'expected at most 10'),
    })
    .optional(),
  watchlist: z.strictObject({ enforce: hardOnly }),
  approval: z.strictObject({ enforce, requiredFor: z.array(category) }),
  /** Vehicle gate only: a driver passes with a vehicle pass naming them; goods essential or within the daily limit. */
  vehicle: z
    .strictObject({
      enforce: hardOnly,
      essentialGoods: z
        .array(z.string().regex(GOODS_PATTERN, 'expected a goods category id: lowercase letters, digits and "-"'))
        .min(1, 'expected at least one essential goods category'),
      /** Entries per plate per local day with non-essential goods; 0 = refused. */
      nonEssentialPerDay: z.number({ error: 'expected a count' }).int('expected a whole number').min(0, 'expected 0 (refused) or more').max(1000, 'expected at most 1000'),
    })
    .optional(),
  /**
   * What an EU DCC may stand for (docs/policy.md "EU DCC"); absent = the defaults: a
   * nucleic-acid test certificate only. Each key left out keeps its default.
   */
  dcc: z
    .strictObject({
      enforce: hardOnly,
      acceptTest: z.boolean({ error: 'expected true or false' }).optional(),
      acceptRapidAntigen: z.boolean({ error: 'expected true or false' }).optional(),
      acceptVaccination: z.boolean({ error: 'expected true or false' }).optional(),
      acceptRecovery: z.boolean({ error: 'expected true or false' }).optional(),
      vaccinationMinDays: z.number({ error: 'expected a number of days' }).int('expected whole days').min(0, 'expected 0 days or more').max(365, 'expected at most 365 days').optional(),
      vaccinationMaxDays: z.number({ error: 'expected a number of days' }).int('expected whole days').min(1, 'expected at least 1 day').max(3650, 'expected at most 3650 days').optional(),
    })
    .optional(),
});

const enforceOnly = z.strictObject({ enforce });
const categoryOverride = z.strictObject({
  category: enforceOnly.optional(),
  healthCode: enforceOnly.optional(),
  travel: enforceOnly.optional(),
  test: z.strictObject({ enforce: enforce.optional(), windowHours: hours.optional() }).optional(),
  approval: enforceOnly.optional(),
});

/** The rules a profile with health checks off may leave out (they are not read then). */
const HEALTH_RULES = ['healthCode', 'travel', 'test', 'temperature'] as const;

export const profileDocumentSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a lowercase id: letters, digits and "-", at most 32 characters'),
  description: z.strictObject({ zh: z.string(), en: z.string() }).optional(),
  /** off: access control only; no health claim is read (docs/policy.md). Default on. */
  healthChecks: z.enum(['on', 'off'], { error: 'expected on or off' }).optional(),
  rules,
  /** Per person category: overrides of the rules above for that category. */
  categories: z.partialRecord(category, categoryOverride).optional(),
});

/**
 * Health rules a document with health checks on leaves out. Read from the raw data beside
 * the schema (a zod refinement would only run once everything else is valid), so they are
 * listed with every other problem at once.
 */
function missingHealthRules(data: unknown): DocumentIssue[] {
  // An unreadable healthChecks is reported by the schema; what it meant is unknown.
  if (!isRecord(data) || (data.healthChecks !== undefined && data.healthChecks !== 'on') || !isRecord(data.rules)) return [];
  const present = data.rules;
  return HEALTH_RULES.filter((rule) => present[rule] === undefined).map((rule) => ({
    path: `rules.${rule}`,
    message: 'missing; expected the rule (only a profile with healthChecks: off may leave it out)',
  }));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type ProfileDocument = z.infer<typeof profileDocumentSchema>;

export interface DocumentIssue {
  /** Key path in the document, e.g. "rules.test.windowHours". */
  path: string;
  /** What was expected. */
  message: string;
}

/** Thrown when a profile document is unusable; lists every problem at once. */
export class ProfileDocumentError extends CodedError<'PROFILE_DOCUMENT_INVALID'> {
  constructor(
    /** Where the document came from: a file path, or e.g. "policy update v12". */
    readonly source: string,
    readonly issues: readonly DocumentIssue[],
  ) {
    super(
      'PROFILE_DOCUMENT_INVALID',
      `PROFILE_DOCUMENT_INVALID: ${source}: ${issues.length} problem(s):\n  ` +
        issues.map((i) => `${i.path || '(top level)'}: ${i.message}`).join('\n  '),
    );
  }
}

// Where each PolicyProfile key lives in the document, to name the right key in errors
// found after compiling (e.g. a fever threshold outside the plausible range).
const DOC_PATH: Readonly<Record<string, string>> = {
  name: 'name',
  testWindowHours: 'rules.test.windowHours',
  feverThreshold: 'rules.temperature.feverThreshold',
  plausibleMin: 'rules.temperature.plausibleMin',
  plausibleMax: 'rules.temperature.plausibleMax',
  implausibleRetries: 'rules.temperature.implausibleRetries',
  riskLookbackDays: 'rules.travel.lookbackDays',
  approvalRequiredFor: 'rules.approval.requiredFor',
  allowedCategories: 'rules.category.allowed',
  'vehicle.essentialGoods': 'rules.vehicle.essentialGoods',
  'vehicle.nonEssentialPerDay': 'rules.vehicle.nonEssentialPerDay',
};

/**
 * Validate a parsed profile document and compile it. Throws ProfileDocumentError listing
 * every problem with its key path and what was expected.
 */
export function compileProfileDocument(data: unknown, source: string): PolicyProfile {
  const parsed = profileDocumentSchema.safeParse(data);
  const missing = missingHealthRules(data);
  if (!parsed.success || missing.length > 0) {
    throw new ProfileDocumentError(source, [
      ...(parsed.success ? [] : parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: describe(i) }))),
      ...missing,
    ]);
  }
  const doc = parsed.data;
  const r = doc.rules;
  const enforceAll: EnforceMap = { category: r.category.enforce, approval: r.approval.enforce };
  if (r.healthCode) enforceAll.healthCode = r.healthCode.enforce;
  if (r.travel) enforceAll.travel = r.travel.enforce;
  if (r.test) enforceAll.test = r.test.enforce;
  const testWindowHoursByCategory: Partial<Record<Category, number>> = {};
  const enforceByCategory: Partial<Record<Category, EnforceMap>> = {};
  for (const [cat, o] of Object.entries(doc.categories ?? {}) as [Category, z.infer<typeof categoryOverride> | undefined][]) {
    if (!o) continue;
    if (o.test?.windowHours !== undefined) testWindowHoursByCategory[cat] = o.test.windowHours;
    const map: EnforceMap = {};
    for (const rule of ['category', 'healthCode', 'travel', 'test', 'approval'] as const satisfies readonly SoftRule[]) {
      const e = o[rule]?.enforce;
      if (e !== undefined) map[rule] = e;
    }
    enforceByCategory[cat] = map;
  }
  // A health rule left out (healthChecks: off) keeps the built-in parameters: never read.
  const overrides: ProfileOverrides = {
    name: doc.name,
    testWindowHours: r.test?.windowHours,
    testWindowHoursByCategory,
    feverThreshold: r.temperature?.feverThreshold,
    plausibleMin: r.temperature?.plausibleMin,
    plausibleMax: r.temperature?.plausibleMax,
    implausibleRetries: r.temperature?.implausibleRetries,
    riskLookbackDays: r.travel?.lookbackDays,
    approvalRequiredFor: r.approval.requiredFor,
    allowedCategories: r.category.allowed,
    enforce: enforceAll,
    enforceByCategory,
    ...(r.vehicle === undefined ? {} : { vehicle: { essentialGoods: r.vehicle.essentialGoods, nonEssentialPerDay: r.vehicle.nonEssentialPerDay } }),
    ...(doc.healthChecks === 'off' ? { healthChecks: 'off' as const } : {}),
    ...(r.dcc === undefined ? {} : { dcc: dccOverrides(r.dcc) }),
  };
  try {
    return profileFromOverrides(overrides);
  } catch (err) {
    if (!(err instanceof PolicyProfileError)) throw err;
    throw new ProfileDocumentError(
      source,
      err.issues.map((i) => ({ path: docPath(i.path), message: `${i.message} [${i.code}]` })),
    );
  }
}

function dccOverrides(d: NonNullable<z.infer<typeof rules>['dcc']>): Partial<DccRule> {
  const { enforce: _hard, ...rest } = d;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<DccRule>;
}

function docPath(profilePath: string): string {
  const [head, ...rest] = profilePath.split('.');
  if (head === 'testWindowHoursByCategory') return `categories.${rest.join('.')}.test.windowHours`;
  if (head === 'enforceByCategory') return `categories.${rest.join('.')}`;
  if (head === 'dcc') return `rules.dcc.${rest.join('.')}`;
  return DOC_PATH[profilePath] ?? DOC_PATH[head ?? ''] ?? profilePath;
}

function formatPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return `missing; expected ${issue.expected}`;
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.join(', ')}; check the spelling (see docs/policy.md)`;
  return issue.message;
}
