// Shapes the store accepts for writing. Each schema is typed against the shared
// interface (z.ZodType<T>), so a change to the interface that the schema does not
// follow fails to compile instead of silently accepting or refusing rows.
import { z } from 'zod';
import {
  CATEGORIES,
  GOODS_PATTERN,
  HEALTH_CODES,
  RISK_LEVELS,
  type CredentialKind,
  type HealthFacts,
} from '../credentials/types.js';
import type { Alert, AlertKind, Approval, CrewRegistration, EvaluatedFacts, Outcome, Reason, RiskArea, WatchlistEntry, WatchlistKind } from '../policy/types.js';
import { parseInstant } from '../policy/time.js';
import { StoreError } from './errors.js';
import type { AlertRecord, NewLedgerEntry, OutboxMessage, RosterEntry } from './types.js';

// Records rather than arrays: adding a member to the union makes these fail to compile,
// which is the reminder to accept it here too.
const OUTCOMES: Record<Outcome, true> = { admit: true, refuse: true, refer: true };
const CREDENTIAL_KINDS: Record<CredentialKind, true> = { 'health-pass': true, 'staff-badge': true, dcc: true, unknown: true };
const ALERT_KINDS: Record<AlertKind, true> = {
  fever: true,
  'health-code': true,
  'risk-area': true,
  watchlist: true,
  'visitor-refused': true,
  'forged-pass': true,
  'device-fault': true,
  'gate-held': true,
  'soft-rule': true,
  'anti-passback': true,
};
const WATCHLIST_KINDS: Record<WatchlistKind, true> = { 'close-contact': true, isolation: true, 'home-monitoring': true };
const AREA_LEVELS: Record<RiskArea['level'], true> = { low: true, medium: true, high: true };
const LEDGER_KINDS: Record<NewLedgerEntry['kind'], true> = { decision: true, timeout: true, fault: true, override: true };

function keys<T extends string>(r: Record<T, true>): [T, ...T[]] {
  return Object.keys(r) as [T, ...T[]];
}

export const OUTCOME_VALUES = keys(OUTCOMES);

/** Staff ids as printed on badges: upper-case letters, digits and dashes, 1-32 long. */
export const STAFF_ID_PATTERN = /^[A-Z0-9][A-Z0-9-]{0,31}$/;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

function realDate(y: number, m: number, d: number): boolean {
  // Date.parse accepts 2022-02-30 and rolls it over to March; a round trip catches that.
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** YYYY-MM-DD naming a real calendar day. */
export function isIsoDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  return m !== null && realDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * ISO 8601 date-time with an explicit zone (Z or ±hh:mm). A zone-less time is refused:
 * the checkpoint PC's zone and the issuer's may differ, and a 48 h test window cannot
 * be judged on a guess.
 */
export function isIsoTimestamp(s: string): boolean {
  const m = ISO_TIMESTAMP.exec(s);
  if (m === null || !realDate(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
  const [hh, mm, ss] = [Number(m[4]), Number(m[5]), m[6] === undefined ? 0 : Number(m[6])];
  if (hh > 23 || mm > 59 || ss > 59) return false;
  if (m[8] !== undefined && (Number(m[8]) > 14 || Number(m[9]) > 59)) return false;
  return true;
}

const text = z.string().trim().min(1, 'expected a non-empty string');
const isoTimestamp = z.string().refine(isIsoTimestamp, 'expected an ISO 8601 timestamp with a zone, e.g. 2022-12-05T08:30:00+08:00');
const isoDateOrTimestamp = z
  .string()
  .refine((s) => isIsoDate(s) || isIsoTimestamp(s), 'expected an ISO date (2022-12-04) or timestamp with a zone');
const epochMs = z.number().int('expected whole epoch milliseconds').nonnegative();

const reasonSchema: z.ZodType<Reason> = z.object({
  code: text,
  zh: z.string(),
  en: z.string(),
  next: z.object({ zh: z.string(), en: z.string() }).optional(),
});

const alertSchema: z.ZodType<Alert> = z.object({
  kind: z.enum(keys(ALERT_KINDS)),
  severity: z.enum(['info', 'warning', 'critical']),
  code: text,
});

export const newLedgerEntrySchema: z.ZodType<NewLedgerEntry> = z.object({
  id: text.max(128),
  at: epochMs,
  lane: text.max(64),
  kind: z.enum(keys(LEDGER_KINDS)),
  outcome: z.enum(OUTCOME_VALUES),
  reasons: z.array(reasonSchema),
  alerts: z.array(alertSchema),
  credential: z.enum(keys(CREDENTIAL_KINDS)),
  subjectRef: z.string().min(1).nullable(),
  subjectName: z.string().nullable(),
  category: z.enum(CATEGORIES).nullable(),
  temperature: z.number().finite().nullable(),
  actor: z.string().trim().min(1).max(64).nullable().optional(),
  note: z.string().max(500).nullable().optional(),
  approver: z.string().trim().min(1).max(100).nullable().optional(),
  approvalKey: z.string().min(1).max(500).nullable().optional(),
  responsible: z.string().trim().min(1).max(100).nullable().optional(),
  crewId: z.string().min(1).max(128).nullable().optional(),
  plate: z.string().trim().min(1).max(16).nullable().optional(),
  goods: z.string().regex(GOODS_PATTERN, 'expected a goods category id').nullable().optional(),
  profile: z.string().min(1).max(64).nullable().optional(),
  profileHash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex').nullable().optional(),
  // Shape only: the policy wrote it from what it evaluated; replay reads it defensively.
  facts: z.custom<EvaluatedFacts>((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && (v as { v?: unknown }).v === 1, 'expected evaluated facts (v: 1)').nullable().optional(),
});

export const outboxMessageSchema: z.ZodType<OutboxMessage> = z.object({
  topic: text,
  payload: z.string(),
  qos: z.union([z.literal(0), z.literal(1)]),
});

export const healthFactsSchema: z.ZodType<HealthFacts> = z.object({
  healthCode: z.enum(HEALTH_CODES),
  travel: z
    .object({
      riskLevel: z.enum(RISK_LEVELS),
      visits: z.array(z.object({ region: text, from: isoDateOrTimestamp, to: isoDateOrTimestamp })),
      asOf: isoTimestamp,
    })
    .optional(),
  test: z.object({ result: z.enum(['negative', 'positive']), sampledAt: isoTimestamp }).optional(),
});

const leaveSchema = z
  .object({
    destination: text.max(100),
    out: isoDateOrTimestamp,
    back: isoDateOrTimestamp.nullable(),
  })
  .superRefine((v, ctx) => {
    // Compared as instants in China time: a bare date is local midnight.
    if (v.back !== null && !(parseInstant(v.back) >= parseInstant(v.out))) {
      ctx.addIssue({ code: 'custom', path: ['back'], message: `expected back to be on or after out (${v.out})` });
    }
  });

const rosterEntrySchema: z.ZodType<RosterEntry> = z.object({
  staffId: z.string().regex(STAFF_ID_PATTERN, `expected a staff id matching ${STAFF_ID_PATTERN.source}`),
  name: text.max(100),
  category: z.enum(CATEGORIES),
  health: healthFactsSchema,
  active: z.boolean(),
  updatedAt: epochMs,
  leave: leaveSchema.optional(),
});

function untilAfter(fromKey: string, untilKey: string) {
  return (v: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const from = v[fromKey];
    const until = v[untilKey];
    if (typeof from === 'string' && typeof until === 'string' && !(Date.parse(until) > Date.parse(from))) {
      ctx.addIssue({ code: 'custom', path: [untilKey], message: `expected ${untilKey} to be after ${fromKey} (${from})` });
    }
  };
}

const watchlistEntrySchema: z.ZodType<WatchlistEntry> = z
  .object({
    subjectId: text,
    kind: z.enum(keys(WATCHLIST_KINDS)),
    from: isoDateOrTimestamp,
    until: isoDateOrTimestamp.nullable(),
    note: z.string().optional(),
  })
  .superRefine(untilAfter('from', 'until'));

const approvalSchema: z.ZodType<Approval> = z
  .object({
    subjectId: text,
    approver: text,
    hostDepartment: text,
    validFrom: isoDateOrTimestamp,
    validUntil: isoDateOrTimestamp,
    // Optional (store schema 6): older central offices send none of these.
    id: text.max(128).optional(),
    checkpoints: z.array(text.max(64)).min(1, 'expected at least one checkpoint id, or no checkpoints key for all').optional(),
    maxUses: z.number().int('expected a whole number of uses').min(1, 'expected at least 1 use').max(100_000).optional(),
  })
  .superRefine(untilAfter('validFrom', 'validUntil'));

const itineraryStopSchema = z
  .object({ region: text.max(200), from: isoDateOrTimestamp, to: isoDateOrTimestamp })
  // Whole days, inclusive: a stay of one day has from = to.
  .refine((v) => !(Date.parse(v.to) < Date.parse(v.from)), { path: ['to'], message: 'expected to on or after from' });

const crewSchema: z.ZodType<CrewRegistration> = z
  .object({
    id: text.max(128),
    responsible: text.max(100),
    members: z.array(text.max(128)).min(1, 'expected at least one member').max(10_000),
    validFrom: isoDateOrTimestamp,
    validUntil: isoDateOrTimestamp,
    // Places of the last 14 days; an empty list says the crew stayed put.
    itinerary: z.array(itineraryStopSchema).max(1000),
  })
  .superRefine(untilAfter('validFrom', 'validUntil'));

const riskAreaSchema: z.ZodType<RiskArea> = z
  .object({
    region: text,
    level: z.enum(keys(AREA_LEVELS)),
    since: isoDateOrTimestamp,
    until: isoDateOrTimestamp.nullable(),
  })
  .superRefine(untilAfter('since', 'until'));

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(value)'}: ${i.message}`)
    .concat(issues.length > 5 ? [`and ${issues.length - 5} more`] : [])
    .join('; ');
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): void {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new StoreError('STORE_INVALID_ROW', `${what} refused, nothing written: ${describe(r.error.issues)}`, {
      what,
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
}

function label(value: unknown, key: string): string {
  const v = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? ` (${key} ${JSON.stringify(v)})` : '';
}

export function checkLedgerEntry(e: unknown): asserts e is NewLedgerEntry {
  // Every entry of a decision is checked on the lane's path: a plain check first, zod only
  // when it fails, to say what is wrong (or to accept what the plain check is too strict for).
  if (plainLedgerEntry(e)) return;
  check(newLedgerEntrySchema, e, `ledger entry${label(e, 'id')}`);
}

export function checkOutboxMessage(m: unknown, eventId: string): asserts m is OutboxMessage {
  if (plainOutboxMessage(m)) return;
  check(outboxMessageSchema, m, `outbox message built for event ${JSON.stringify(eventId)}`);
}

// The plain check: true only for values newLedgerEntrySchema accepts (a test holds it to
// that); false sends the value to zod. About 1/10 of zod's time for a decision's entry.
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** `text.max(max)`: a string with 1..max characters once trimmed. */
function textWithin(v: unknown, max: number): boolean {
  if (typeof v !== 'string') return false;
  const n = v.trim().length;
  return n >= 1 && n <= max;
}
/** An optional nullable string of `min`..`max` characters (trimmed first when `trim`). */
function optionalString(v: unknown, min: number, max: number, trim = false): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v !== 'string') return false;
  const n = trim ? v.trim().length : v.length;
  return n >= min && n <= max;
}
const ALERT_SEVERITIES: Record<Alert['severity'], true> = { info: true, warning: true, critical: true };
const CATEGORY_SET: ReadonlySet<unknown> = new Set(CATEGORIES);
const PROFILE_HASH = /^[0-9a-f]{64}$/;
const has = (r: Record<string, true>, v: unknown): boolean => typeof v === 'string' && Object.hasOwn(r, v);

function plainReason(r: unknown): boolean {
  if (!isObject(r) || !textWithin(r.code, Infinity) || typeof r.zh !== 'string' || typeof r.en !== 'string') return false;
  const next = r.next;
  return next === undefined || (isObject(next) && typeof next.zh === 'string' && typeof next.en === 'string');
}
function plainAlert(a: unknown): boolean {
  return isObject(a) && has(ALERT_KINDS, a.kind) && has(ALERT_SEVERITIES, a.severity) && textWithin(a.code, Infinity);
}

export function plainOutboxMessage(m: unknown): boolean {
  return isObject(m) && textWithin(m.topic, Infinity) && typeof m.payload === 'string' && (m.qos === 0 || m.qos === 1);
}

export function plainLedgerEntry(e: unknown): boolean {
  if (!isObject(e)) return false;
  const { reasons, alerts, subjectRef, temperature, goods, profileHash, facts } = e;
  return (
    textWithin(e.id, 128) &&
    typeof e.at === 'number' && Number.isSafeInteger(e.at) && e.at >= 0 &&
    textWithin(e.lane, 64) &&
    has(LEDGER_KINDS, e.kind) &&
    has(OUTCOMES, e.outcome) &&
    Array.isArray(reasons) && reasons.every(plainReason) &&
    Array.isArray(alerts) && alerts.every(plainAlert) &&
    has(CREDENTIAL_KINDS, e.credential) &&
    (subjectRef === null || (typeof subjectRef === 'string' && subjectRef.length >= 1)) &&
    (e.subjectName === null || typeof e.subjectName === 'string') &&
    (e.category === null || CATEGORY_SET.has(e.category)) &&
    (temperature === null || (typeof temperature === 'number' && Number.isFinite(temperature))) &&
    optionalString(e.actor, 1, 64, true) &&
    optionalString(e.note, 0, 500) &&
    optionalString(e.approver, 1, 100, true) &&
    optionalString(e.approvalKey, 1, 500) &&
    optionalString(e.responsible, 1, 100, true) &&
    optionalString(e.crewId, 1, 128) &&
    optionalString(e.plate, 1, 16, true) &&
    (goods === undefined || goods === null || (typeof goods === 'string' && GOODS_PATTERN.test(goods))) &&
    optionalString(e.profile, 1, 64) &&
    (profileHash === undefined || profileHash === null || (typeof profileHash === 'string' && PROFILE_HASH.test(profileHash))) &&
    (facts === undefined || facts === null || (isObject(facts) && facts.v === 1))
  );
}

/** Checks a whole batch before any of it is written; names the entry's index and key. */
function checkAll<T>(schema: z.ZodType<T>, entries: unknown, what: string, key: string): asserts entries is T[] {
  if (!Array.isArray(entries)) {
    throw new StoreError('STORE_INVALID_ROW', `${what} refused, nothing written: expected an array of entries`, { what });
  }
  entries.forEach((e, i) => check(schema, e, `${what} entry ${i}${label(e, key)}`));
}

export function checkRosterEntries(entries: unknown): asserts entries is RosterEntry[] {
  checkAll(rosterEntrySchema, entries, 'roster', 'staffId');
}
export function checkWatchlistEntries(entries: unknown): asserts entries is WatchlistEntry[] {
  checkAll(watchlistEntrySchema, entries, 'watchlist', 'subjectId');
}
export function checkApprovals(entries: unknown): asserts entries is Approval[] {
  checkAll(approvalSchema, entries, 'approvals', 'subjectId');
}
export function checkCrews(entries: unknown): asserts entries is CrewRegistration[] {
  checkAll(crewSchema, entries, 'crews', 'id');
  // The id keys the crew (its members and admissions): two crews may not share one.
  const seen = new Set<string>();
  entries.forEach((c, i) => {
    if (seen.has(c.id)) throw new StoreError('STORE_INVALID_ROW', `crews[${i}].id: the id is used by an earlier crew; expected each crew once`, { index: i });
    seen.add(c.id);
  });
}
export function checkRiskAreas(entries: unknown): asserts entries is RiskArea[] {
  checkAll(riskAreaSchema, entries, 'risk areas', 'region');
}

const alertRecordSchema: z.ZodType<AlertRecord> = z.object({
  id: text.max(128),
  at: epochMs,
  lane: text.max(64).nullable(),
  kind: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'expected a lowercase alert kind such as fever or device-down'),
  severity: z.enum(['info', 'warning', 'critical']),
  code: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'expected an upper-case reason code such as TEMP_FEVER'),
  eventId: text.max(128).nullable(),
  // Short text for the guard; the length limit keeps a whole record out of it.
  detail: z.string().max(500).nullable(),
});

export function checkAlertRecord(a: unknown): asserts a is AlertRecord {
  check(alertRecordSchema, a, `alert${label(a, 'id')}`);
}
