// The admission policy: (credential, readings, local facts, profile, now) → verdict.
// Pure and synchronous: no I/O, no clock but `input.now`. Never throws on odd data; every
// comparison is written so that an unreadable date or NaN fails closed (refuse), not open.
import { isDccHealth, type Category, type CredentialFailureCode, type DccHealthFacts, type Subject } from '../credentials/types.js';
import { dccRuleOf } from './profiles.js';
import { reason, type ReasonCode } from './reasons.js';
import { assessTemperature, type TemperatureAssessment } from './temperature.js';
import { HOUR_MS, localDay, parseDay, parseInstant } from './time.js';
import type {
  Alert,
  AlertKind,
  Approval,
  CrewRegistration,
  DecideInput,
  Decision,
  Enforcement,
  LeaveRecord,
  LocalFacts,
  PolicyProfile,
  Reason,
  RiskArea,
  SoftRule,
  VehicleAtGate,
  VehicleRule,
  Verdict,
  WatchlistEntry,
  WatchlistKind,
} from './types.js';

/** A test sampled up to this far in the future is accepted (clocks of issuers drift). */
export const TEST_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * A pass we cannot trust is the holder's to fix: refuse. A code we cannot place may be a
 * roster or reader problem on our side: refer to the guard. Exhaustive on purpose, so a
 * new failure code cannot ship without a decision.
 */
const CREDENTIAL_OUTCOME: Readonly<Record<CredentialFailureCode, 'refuse' | 'refer'>> = {
  PASS_MALFORMED: 'refuse',
  PASS_UNKNOWN_KEY: 'refuse',
  PASS_SIGNATURE_INVALID: 'refuse',
  PASS_EXPIRED: 'refuse',
  PASS_NOT_YET_VALID: 'refuse',
  PASS_LIFETIME_TOO_LONG: 'refuse',
  PASS_CLAIMS_INVALID: 'refuse',
  BADGE_MALFORMED: 'refer',
  BADGE_NOT_IN_ROSTER: 'refer',
  // A DCC that does not verify is the holder's to fix, like a pass.
  DCC_INVALID: 'refuse',
  DCC_UNKNOWN_SIGNER: 'refuse',
  DCC_SIGNATURE_INVALID: 'refuse',
  DCC_EXPIRED: 'refuse',
  DCC_NOT_YET_VALID: 'refuse',
  CREDENTIAL_UNKNOWN: 'refer',
  CREDENTIAL_NOT_TEXT: 'refer',
};
/**
 * A bad signature or an unknown issuer key may be a forgery: tell the guard. A DCC from an
 * unknown signer is not: most are genuine certificates of a country whose signers this
 * gateway was not given, so DCC_UNKNOWN_SIGNER raises no alert.
 */
const FORGERY_CODES: ReadonlySet<CredentialFailureCode> = new Set(['PASS_SIGNATURE_INVALID', 'PASS_UNKNOWN_KEY', 'DCC_SIGNATURE_INVALID']);

const WATCHLIST_CODES = {
  'close-contact': 'WATCHLIST_CLOSE_CONTACT',
  isolation: 'WATCHLIST_ISOLATION',
  'home-monitoring': 'WATCHLIST_HOME_MONITORING',
} as const satisfies Record<WatchlistKind, ReasonCode>;
const WATCHLIST_ORDER: readonly WatchlistKind[] = ['close-contact', 'isolation', 'home-monitoring'];

const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

/**
 * The safety floor: these refuse under every profile, whatever a rule's `enforce` says.
 * A soft profile may wave through an old test or a yellow code, never these.
 */
export const ALWAYS_HARD: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'HEALTH_CODE_RED',
  'TEST_POSITIVE',
  'WATCHLIST_CLOSE_CONTACT',
  'WATCHLIST_ISOLATION',
  'WATCHLIST_HOME_MONITORING',
]);

/** Which rule a finding belongs to; watchlist, crew, vehicle, temperature and dcc are always hard. */
type RuleOf = SoftRule | 'watchlist' | 'crew' | 'vehicle' | 'temperature' | 'dcc';
const HARD_RULES: ReadonlySet<RuleOf> = new Set<RuleOf>(['watchlist', 'crew', 'vehicle', 'temperature', 'dcc']);

/** Categories that pass only as members of a current crew registration (requirement 7). */
export const CREW_CATEGORIES: readonly Category[] = ['contractor'];

/** Reasons and alerts gathered by the subject checks, in check order. */
class Findings {
  readonly reasons: Reason[] = [];
  readonly alerts: Alert[] = [];
  /** Reasons of rules enforced soft for this subject, with their alerts. */
  readonly soft: Reason[] = [];
  readonly softAlerts: Alert[] = [];
  /** The rule whose check is running; set by decide() before each check. */
  rule: RuleOf = 'category';
  readonly #enforcement: (rule: SoftRule) => Enforcement;
  constructor(enforcement: (rule: SoftRule) => Enforcement) {
    this.#enforcement = enforcement;
  }
  add(r: Reason, alert?: { kind: AlertKind; severity: Alert['severity'] }): void {
    const rule = this.rule;
    const soft = !HARD_RULES.has(rule) && !ALWAYS_HARD.has(r.code as ReasonCode) && this.#enforcement(rule as SoftRule) === 'soft';
    (soft ? this.soft : this.reasons).push(r);
    if (alert) (soft ? this.softAlerts : this.alerts).push({ ...alert, code: r.code });
  }
}

/** How `rule` is enforced for this category: per-category setting, else profile-wide, else hard. */
export function enforcementOf(profile: PolicyProfile, category: Category, rule: SoftRule): Enforcement {
  return profile.enforceByCategory?.[category]?.[rule] ?? profile.enforce?.[rule] ?? 'hard';
}

export function decide(input: DecideInput): Verdict {
  const { credential, profile, now } = input;
  if (!credential.ok) return credentialDecision(credential.code);

  const subject = credential.subject;
  const facts = input.facts;
  // Access control only: no health claim is read, no temperature asked for.
  const health = profile.healthChecks !== 'off';
  const found = new Findings((rule) => enforcementOf(profile, subject.category, rule));
  found.rule = 'category';
  checkCategory(found, subject, profile);
  if (health && isDccHealth(subject.health)) {
    // An EU DCC has no health code and no travel record: the DCC rule stands in for both,
    // and says whether the certificate also stands in for the test (docs/policy.md).
    found.rule = 'dcc';
    const verdict = checkDcc(found, subject.health, profile, now);
    found.rule = 'test';
    if (verdict === 'test') checkTest(found, subject, profile, now, facts.leave);
  } else if (health) {
    found.rule = 'healthCode';
    checkHealthCode(found, subject);
    found.rule = 'travel';
    checkTravel(found, subject, facts.riskAreas, profile, now);
    found.rule = 'test';
    checkTest(found, subject, profile, now, facts.leave);
  }
  found.rule = 'watchlist';
  checkWatchlist(found, facts.watchlist, now);
  found.rule = 'approval';
  checkApproval(found, subject, facts.approvals, profile, now, facts.checkpoint);
  found.rule = 'crew';
  checkCrew(found, subject, facts, profile, now, health);
  found.rule = 'vehicle';
  checkVehicle(found, subject, facts.vehicle, profile);
  found.rule = 'temperature';

  if (!health) {
    // Identity alone: admitted unless a rule of access (category, watchlist, approval,
    // crew, vehicle) failed hard. No reading is asked for or kept.
    if (found.reasons.length === 0) return softAdmit(found);
    found.reasons.push(...found.soft);
    found.alerts.push(...found.softAlerts);
    return refusal(found, subject, profile, undefined);
  }

  const temp = assessTemperature(Array.isArray(input.readings) ? input.readings : [], profile);

  if (found.reasons.length > 0) {
    // A subject who fails a check is refused at once: no point asking them to measure.
    // A fever already confirmed by readings of this passage is still reported and alerted.
    // Soft findings are true too: listed after the hard ones so the record is complete.
    if (temp.kind === 'fever') found.add(reason('TEMP_FEVER', { celsius: temp.celsius }), { kind: 'fever', severity: 'critical' });
    found.reasons.push(...found.soft);
    found.alerts.push(...found.softAlerts);
    return refusal(found, subject, profile, plausibleReading(temp));
  }

  switch (temp.kind) {
    case 'none':
      return { outcome: 'measure', reason: reason('TEMP_NEEDED') };
    case 'remeasure':
      return { outcome: 'measure', reason: reason('TEMP_IMPLAUSIBLE_REMEASURE') };
    case 'implausible':
      return { outcome: 'refer', reasons: [reason('TEMP_IMPLAUSIBLE')], alerts: [] };
    case 'invalid-remeasure':
      return { outcome: 'measure', reason: reason('TEMP_READING_INVALID_REMEASURE') };
    case 'invalid':
      return { outcome: 'refer', reasons: [reason('TEMP_READING_INVALID')], alerts: [] };
    case 'recheck':
      return { outcome: 'measure', reason: reason('TEMP_RECHECK', { celsius: temp.celsius }) };
    case 'fever':
      found.add(reason('TEMP_FEVER', { celsius: temp.celsius }), { kind: 'fever', severity: 'critical' });
      found.reasons.push(...found.soft);
      found.alerts.push(...found.softAlerts);
      return refusal(found, subject, profile, temp.celsius);
    case 'normal':
      return softAdmit(found, temp.celsius);
  }
}

/**
 * Admit; rules enforced soft that failed are recorded as reasons and raise alerts.
 * `celsius` is the reading relied on; none when health checks are off.
 */
function softAdmit(found: Findings, celsius?: number): Decision {
  const first = found.soft[0];
  const decision: Decision = first
    ? { outcome: 'admit', reasons: [...found.soft], alerts: dedupeAlerts([{ kind: 'soft-rule', severity: 'warning', code: first.code }, ...found.softAlerts]) }
    : { outcome: 'admit', reasons: [], alerts: [] };
  if (celsius !== undefined) decision.temperature = celsius;
  return decision;
}

function credentialDecision(code: CredentialFailureCode): Decision {
  // A code from a newer credentials module than this policy knows: hold the gate.
  if (!Object.hasOwn(CREDENTIAL_OUTCOME, code)) return { outcome: 'refer', reasons: [reason('CREDENTIAL_UNKNOWN')], alerts: [] };
  const outcome = CREDENTIAL_OUTCOME[code];
  const alerts: Alert[] = FORGERY_CODES.has(code) ? [{ kind: 'forged-pass', severity: 'warning', code }] : [];
  return { outcome, reasons: [reason(code)], alerts };
}

function refusal(found: Findings, subject: Subject, profile: PolicyProfile, temperature: number | undefined): Decision {
  const alerts = [...found.alerts];
  if (subject.category === 'visitor' || profile.approvalRequiredFor.includes(subject.category)) {
    // The duty office wants to know every outsider turned away, whatever the reason.
    const approvalReason = found.reasons.find((r) => r.code.startsWith('VISITOR_'));
    const code = approvalReason?.code ?? found.reasons[0]?.code ?? 'VISITOR_NO_APPROVAL';
    alerts.push({ kind: 'visitor-refused', severity: 'warning', code });
  }
  const decision: Decision = { outcome: 'refuse', reasons: found.reasons, alerts: dedupeAlerts(alerts) };
  if (temperature !== undefined) decision.temperature = temperature;
  return decision;
}

/** The reading worth recording on a refusal: the last one, when it was plausible. */
function plausibleReading(t: TemperatureAssessment): number | undefined {
  return t.kind === 'normal' || t.kind === 'recheck' || t.kind === 'fever' ? t.celsius : undefined;
}

/** One alert per kind: the most severe, the first among equals. */
export function dedupeAlerts(alerts: readonly Alert[]): Alert[] {
  const byKind = new Map<AlertKind, Alert>();
  for (const a of alerts) {
    const seen = byKind.get(a.kind);
    if (!seen || SEVERITY_RANK[a.severity] > SEVERITY_RANK[seen.severity]) byKind.set(a.kind, a);
  }
  // Keep the order in which kinds first appeared, so output is stable.
  const order: AlertKind[] = [];
  for (const a of alerts) if (!order.includes(a.kind)) order.push(a.kind);
  return order.flatMap((k) => {
    const a = byKind.get(k);
    return a ? [a] : [];
  });
}

function checkCategory(found: Findings, subject: Subject, profile: PolicyProfile): void {
  if (!profile.allowedCategories.includes(subject.category)) {
    found.add(reason('CATEGORY_NOT_ALLOWED', { category: subject.category }));
  }
}

function checkHealthCode(found: Findings, subject: Subject): void {
  const code = subject.health.healthCode;
  if (code === 'green') return;
  // Anything not green is refused; only a red code is critical.
  if (code === 'red') found.add(reason('HEALTH_CODE_RED'), { kind: 'health-code', severity: 'critical' });
  else found.add(reason('HEALTH_CODE_YELLOW'), { kind: 'health-code', severity: 'warning' });
}

function checkTravel(found: Findings, subject: Subject, areas: readonly RiskArea[], profile: PolicyProfile, now: number): void {
  const travel = subject.health.travel;
  if (!travel) {
    found.add(reason('TRAVEL_MISSING'));
    return;
  }
  const level = travel.riskLevel;
  if (level !== 'none' && level !== 'low') {
    // Unknown levels fail closed and are shown as "medium or high".
    const shown = level === 'medium' || level === 'high' ? level : undefined;
    found.add(reason('TRAVEL_RISK_AREA', shown ? { level: shown } : {}), { kind: 'risk-area', severity: level === 'medium' ? 'warning' : 'critical' });
  }
  const hits = riskVisits(Array.isArray(travel.visits) ? travel.visits : [], Array.isArray(areas) ? areas : [], profile.riskLookbackDays, now);
  if (hits.regions.length > 0) {
    found.add(reason('TRAVEL_RISK_AREA_VISIT', { regions: hits.regions, days: profile.riskLookbackDays, level: hits.level }), {
      kind: 'risk-area',
      severity: hits.level === 'high' ? 'critical' : 'warning',
    });
  }
}

export function normalizeRegion(region: string): string {
  return typeof region === 'string' ? region.normalize('NFKC').trim().toLowerCase() : '';
}

/**
 * Regions of medium/high risk areas where the person stayed while the area was listed,
 * within the last `lookbackDays` local calendar days (today counts as day 0, so a stay that
 * ended exactly 14 days ago still counts with 14). All three intervals are whole days,
 * inclusive at both ends: stay [from, to], window [today − N, today], area [since, until].
 * The stay must meet both the window and the risk period in at least one common day: a
 * stay in a city before it became risky, or long before the window, does not count.
 * Unreadable dates on a matching region count as a hit.
 */
export function riskVisits(
  visits: readonly { region: string; from: string; to: string }[],
  areas: readonly RiskArea[],
  lookbackDays: number,
  now: number,
): { regions: string[]; level: 'medium' | 'high' } {
  const today = localDay(now);
  const windowStart = today - lookbackDays;
  const regions: string[] = [];
  let level: 'medium' | 'high' = 'medium';
  for (const area of areas) {
    if (area.level !== 'medium' && area.level !== 'high') continue;
    const name = normalizeRegion(area.region);
    if (name === '') continue;
    const since = parseDay(area.since);
    const until = area.until === null ? Number.POSITIVE_INFINITY : parseDay(area.until);
    const hit = visits.some((v) => {
      if (normalizeRegion(v.region) !== name) return false;
      const a = parseDay(v.from);
      const b = parseDay(v.to);
      const lo = Math.max(Math.min(a, b), windowStart, since);
      const hi = Math.min(Math.max(a, b), today, until);
      // NaN anywhere makes lo or hi NaN and `lo > hi` false: an unreadable date counts.
      return !(lo > hi);
    });
    if (hit) {
      const shown = area.region.trim();
      if (!regions.some((r) => normalizeRegion(r) === name)) regions.push(shown);
      if (area.level === 'high') level = 'high';
    }
  }
  return { regions, level };
}

/**
 * When a returning worker's test must have been sampled, at the earliest: the latest
 * return (`back`) not after now; for a leave without a return yet (or a return still in
 * the future) whose `out` has passed, the person is evidently back, so the day they left.
 * null when no leave applies. Unreadable dates are skipped (the store validates them).
 */
export function returnedSince(leave: readonly LeaveRecord[] | undefined, now: number): number | null {
  let since: number | null = null;
  for (const l of Array.isArray(leave) ? leave : []) {
    const out = parseInstant(l.out);
    if (!Number.isFinite(out) || out > now) continue;
    const back = l.back === null ? Number.NaN : parseInstant(l.back);
    const t = Number.isFinite(back) && back <= now ? back : out;
    if (since === null || t > since) since = t;
  }
  return since;
}

function checkTest(found: Findings, subject: Subject, profile: PolicyProfile, now: number, leave?: readonly LeaveRecord[]): void {
  const test = subject.health.test;
  if (!test) {
    found.add(reason('TEST_MISSING'));
    return;
  }
  // A positive result is refused whatever its age; an old positive needs the guard anyway.
  if (test.result !== 'negative') {
    found.add(reason('TEST_POSITIVE'), { kind: 'health-code', severity: 'critical' });
    return;
  }
  const sampled = parseInstant(test.sampledAt);
  const age = now - sampled;
  if (!(age >= -TEST_CLOCK_SKEW_MS)) {
    found.add(reason('TEST_DATE_INVALID'));
    return;
  }
  const limitHours = profile.testWindowHoursByCategory[subject.category] ?? profile.testWindowHours;
  // Exactly the window is still fine; one millisecond more is not.
  if (!(age <= limitHours * HOUR_MS)) {
    found.add(reason('TEST_EXPIRED', { hours: Math.floor(age / HOUR_MS), limitHours }));
    return;
  }
  // Leave and return: a test taken before the trip says nothing about it.
  const since = returnedSince(leave, now);
  if (since !== null && sampled < since) found.add(reason('TEST_BEFORE_RETURN', { since }));
}

/**
 * The DCC rule: is this kind of certificate accepted here, and is it good for today?
 * 'test': a test certificate of an accepted kind, whose result and sample time the test
 * rule judges next; 'stands-in': an accepted vaccination or recovery certificate, good
 * today, in place of a test; 'refused': a finding was added. Unreadable dates refuse.
 */
export function checkDcc(found: Pick<Findings, 'add'>, health: DccHealthFacts, profile: PolicyProfile, now: number): 'test' | 'stands-in' | 'refused' {
  const rule = dccRuleOf(profile);
  const c = health.dcc;
  switch (c.type) {
    case 'test':
      if (!rule.acceptTest) break;
      if (c.testType === 'naat' || (c.testType === 'rat' && rule.acceptRapidAntigen)) return 'test';
      found.add(reason('DCC_TEST_NOT_NAAT'));
      return 'refused';
    case 'vaccination': {
      if (!rule.acceptVaccination) break;
      if (!(Number.isInteger(c.dose) && Number.isInteger(c.series) && c.series >= 1 && c.dose >= c.series)) {
        found.add(reason('DCC_VACCINATION_INCOMPLETE', Number.isInteger(c.dose) && Number.isInteger(c.series) ? { dose: c.dose, series: c.series } : {}));
        return 'refused';
      }
      const days = localDay(now) - parseDay(c.date);
      if (!(days >= rule.vaccinationMinDays)) {
        found.add(reason('DCC_VACCINATION_TOO_RECENT', { minDays: rule.vaccinationMinDays }));
        return 'refused';
      }
      if (!(days <= rule.vaccinationMaxDays)) {
        found.add(reason('DCC_VACCINATION_TOO_OLD', { maxDays: rule.vaccinationMaxDays }));
        return 'refused';
      }
      return 'stands-in';
    }
    case 'recovery': {
      if (!rule.acceptRecovery) break;
      const today = localDay(now);
      // Both ends inclusive; NaN from an unreadable date fails both comparisons: refused.
      if (!(parseDay(c.validFrom) <= today && today <= parseDay(c.validUntil))) {
        found.add(reason('DCC_RECOVERY_NOT_VALID'));
        return 'refused';
      }
      return 'stands-in';
    }
  }
  // Not accepted here, or a type this policy does not know (fail closed).
  const type = c.type === 'test' || c.type === 'vaccination' || c.type === 'recovery' ? c.type : undefined;
  found.add(reason('DCC_TYPE_NOT_ACCEPTED', type ? { type } : {}));
  return 'refused';
}

/** An entry applies when from ≤ now and (no end, or now < until). Unreadable from applies. */
export function watchlistApplies(entry: WatchlistEntry, now: number): boolean {
  const from = parseInstant(entry.from);
  if (now < from) return false;
  if (entry.until === null || entry.until === undefined) return true;
  const until = parseInstant(entry.until);
  return !(now >= until);
}

function checkWatchlist(found: Findings, entries: readonly WatchlistEntry[], now: number): void {
  if (!Array.isArray(entries)) return;
  // One reason per kind, showing the latest end (none when any applying entry is open-ended).
  const ends = new Map<WatchlistKind, number | null>();
  for (const e of entries) {
    if (!watchlistApplies(e, now)) continue;
    // Unknown kinds still refuse: isolation is the safe reading.
    const kind: WatchlistKind = Object.hasOwn(WATCHLIST_CODES, e.kind) ? e.kind : 'isolation';
    const until = e.until === null || e.until === undefined ? Number.NaN : parseInstant(e.until);
    const end = Number.isFinite(until) ? until : null;
    const prev = ends.get(kind);
    if (prev === undefined) ends.set(kind, end);
    else if (prev !== null) ends.set(kind, end === null ? null : Math.max(prev, end));
  }
  for (const kind of WATCHLIST_ORDER) {
    const end = ends.get(kind);
    if (end === undefined) continue;
    found.add(reason(WATCHLIST_CODES[kind], { until: end }), { kind: 'watchlist', severity: 'critical' });
  }
}

/** An approval applies when validFrom ≤ now < validUntil; an unreadable one never applies. */
export function approvalApplies(a: Approval, now: number): boolean {
  return parseInstant(a.validFrom) <= now && now < parseInstant(a.validUntil);
}

/** The key an approval's uses are counted under: the office's id, else its fixed fields. */
export function approvalKey(a: Approval): string {
  return a.id ?? `${a.subjectId}|${a.approver}|${a.hostDepartment}|${a.validFrom}|${a.validUntil}`;
}

/** Limited to some checkpoints and this is not one of them (an unknown checkpoint is not one: fail closed). */
function otherCheckpoint(a: Approval, checkpoint: string | undefined): boolean {
  return Array.isArray(a.checkpoints) && !(checkpoint !== undefined && a.checkpoints.includes(checkpoint));
}

/**
 * The approval an admission of this subject uses: the first that is valid now, covers
 * this checkpoint and is not used up; null when the category needs none or none fits.
 * The lane counts a use of it and records its approver with the admission.
 */
export function approvalInUse(category: Category, facts: LocalFacts, profile: PolicyProfile, now: number): { key: string; approver: string } | null {
  if (!profile.approvalRequiredFor.includes(category)) return null;
  const list = Array.isArray(facts.approvals) ? facts.approvals : [];
  const a = list.find((x) => approvalApplies(x, now) && !otherCheckpoint(x, facts.checkpoint) && !usedUp(x));
  return a === undefined ? null : { key: approvalKey(a), approver: a.approver };
}

function usedUp(a: Approval): boolean {
  return a.maxUses !== undefined && (a.uses ?? 0) >= a.maxUses;
}

function checkApproval(found: Findings, subject: Subject, approvals: readonly Approval[], profile: PolicyProfile, now: number, checkpoint: string | undefined): void {
  if (!profile.approvalRequiredFor.includes(subject.category)) return;
  const list = Array.isArray(approvals) ? approvals : [];
  const current = list.filter((a) => approvalApplies(a, now));
  const here = current.filter((a) => !otherCheckpoint(a, checkpoint));
  if (here.some((a) => !usedUp(a))) return;
  if (here.length > 0) {
    const limit = Math.max(...here.map((a) => a.maxUses ?? 0));
    found.add(reason('VISITOR_APPROVAL_USED_UP', { maxUses: limit }));
    return;
  }
  if (current.length > 0) {
    found.add(reason('VISITOR_APPROVAL_WRONG_CHECKPOINT'));
    return;
  }
  // Say the most useful thing: an upcoming approval beats an expired one.
  const upcoming = list.map((a) => parseInstant(a.validFrom)).filter((t) => Number.isFinite(t) && t > now);
  if (upcoming.length > 0) {
    found.add(reason('VISITOR_APPROVAL_NOT_YET_VALID', { from: Math.min(...upcoming) }));
    return;
  }
  const ended = list.map((a) => parseInstant(a.validUntil)).filter((t) => Number.isFinite(t) && t <= now);
  if (ended.length > 0) {
    found.add(reason('VISITOR_APPROVAL_EXPIRED', { until: Math.max(...ended) }));
    return;
  }
  found.add(reason('VISITOR_NO_APPROVAL'));
}

/** A registration applies when validFrom ≤ now < validUntil; an unreadable one never applies. */
export function crewApplies(c: CrewRegistration, now: number): boolean {
  return parseInstant(c.validFrom) <= now && now < parseInstant(c.validUntil);
}

/**
 * The crew registration an admission of this subject relies on: the first current one;
 * null when the category needs none or none applies. The lane records its responsible
 * person with the admission (locally).
 */
export function crewInUse(category: Category, facts: LocalFacts, now: number): { id: string; responsible: string } | null {
  if (!CREW_CATEGORIES.includes(category)) return null;
  const c = (Array.isArray(facts.crews) ? facts.crews : []).find((x) => crewApplies(x, now));
  return c === undefined ? null : { id: c.id, responsible: c.responsible };
}

function checkCrew(found: Findings, subject: Subject, facts: LocalFacts, profile: PolicyProfile, now: number, health: boolean): void {
  if (!CREW_CATEGORIES.includes(subject.category)) return;
  const list = Array.isArray(facts.crews) ? facts.crews : [];
  const current = list.filter((c) => crewApplies(c, now));
  if (current.length === 0) {
    // As with approvals: an upcoming registration is the more useful thing to say.
    const upcoming = list.map((c) => parseInstant(c.validFrom)).filter((t) => Number.isFinite(t) && t > now);
    const ended = list.map((c) => parseInstant(c.validUntil)).filter((t) => Number.isFinite(t) && t <= now);
    if (upcoming.length > 0) found.add(reason('CREW_NOT_YET_VALID', { from: Math.min(...upcoming) }));
    else if (ended.length > 0) found.add(reason('CREW_EXPIRED', { until: Math.max(...ended) }));
    else found.add(reason('CREW_NOT_REGISTERED'));
    return;
  }
  // The crew's itinerary counts like the member's own travel visits, under the travel rule
  // (a travel record: not read with health checks off).
  if (!health) return;
  const stops = current.flatMap((c) => (Array.isArray(c.itinerary) ? c.itinerary : []));
  const hits = riskVisits(stops, Array.isArray(facts.riskAreas) ? facts.riskAreas : [], profile.riskLookbackDays, now);
  if (hits.regions.length > 0) {
    found.rule = 'travel';
    found.add(reason('CREW_ITINERARY_RISK_AREA', { regions: hits.regions, days: profile.riskLookbackDays, level: hits.level }), {
      kind: 'risk-area',
      severity: hits.level === 'high' ? 'critical' : 'warning',
    });
    found.rule = 'crew';
  }
}

/** Goods the vehicle rule does not list as essential; an unreadable category is non-essential. */
export function isEssentialGoods(rule: VehicleRule, goods: string): boolean {
  return typeof goods === 'string' && Array.isArray(rule.essentialGoods) && rule.essentialGoods.includes(goods);
}

/**
 * The vehicle gate (requirement 10). Only on a profile with a vehicle rule: a delivery
 * driver needs a vehicle pass scanned just before; the pass must name this driver; goods
 * not listed as essential are refused, or admitted up to the daily limit per plate.
 */
function checkVehicle(found: Findings, subject: Subject, vehicle: VehicleAtGate | undefined, profile: PolicyProfile): void {
  const rule = profile.vehicle;
  if (rule === undefined) return;
  if (vehicle === undefined) {
    if (subject.category === 'driver') found.add(reason('VEHICLE_PASS_MISSING'));
    return;
  }
  if (vehicle.driver !== subject.id) found.add(reason('VEHICLE_DRIVER_MISMATCH'));
  if (isEssentialGoods(rule, vehicle.goods)) return;
  const limit = Number.isInteger(rule.nonEssentialPerDay) && rule.nonEssentialPerDay > 0 ? rule.nonEssentialPerDay : 0;
  if (limit === 0) {
    found.add(reason('VEHICLE_GOODS_NOT_ESSENTIAL'));
    return;
  }
  const today = (Array.isArray(vehicle.goodsToday) ? vehicle.goodsToday : []).filter((g) => !isEssentialGoods(rule, g)).length;
  // Exactly the limit used up refuses: N entries are allowed, the (N+1)th is not.
  if (!(today < limit)) found.add(reason('VEHICLE_DAILY_LIMIT', { limit }));
}
