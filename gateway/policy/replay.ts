// Policy replay: what decide() evaluated is kept with each ledger row (without names or
// raw ids), so stored passages can be re-decided under another profile before it goes
// live. Pure: the caller reads the rows and the profile.
import { isDccHealth, type DccFacts, type HealthFacts, type SubjectHealth } from '../credentials/types.js';
import { decide, normalizeRegion } from './decide.js';
import { withoutHealthFacts } from './health-checks.js';
import type { DecideInput, EvaluatedFacts, Outcome, PolicyProfile, Verdict } from './types.js';
import { applyZone, type ZoneAtPassage } from './zones.js';

/** The facts of one decide() call as kept in the ledger. */
export function evaluatedFacts(input: DecideInput): EvaluatedFacts {
  const facts = allFacts(input);
  // Health checks off: decide() read no health claim, reading, travel record, risk area
  // or leave, so none of them is kept (the profile's hash says health checks were off).
  return input.profile.healthChecks === 'off' ? withoutHealthFacts(facts) : facts;
}

function allFacts(input: DecideInput): EvaluatedFacts {
  const c = input.credential;
  const visits = c.ok && Array.isArray(c.subject.health.travel?.visits) ? c.subject.health.travel.visits : [];
  const crews = Array.isArray(input.facts.crews) ? input.facts.crews : [];
  const stops = crews.flatMap((cr) => (Array.isArray(cr.itinerary) ? cr.itinerary : []));
  // Only needed to pick risk areas; most sites list none, and then nothing is built.
  const areas = input.facts.riskAreas;
  const visited = areas.length === 0 ? null : new Set([...visits, ...stops].map((v) => normalizeRegion(v.region)));
  return {
    v: 1,
    now: input.now,
    credential: c.ok
      ? { ok: true, kind: c.kind, category: c.subject.category, health: healthOnly(c.subject.health) }
      : { ok: false, kind: c.kind, code: c.code },
    readings: input.readings.map((r) => ({ celsius: r.celsius, at: r.at, ...(r.invalid === undefined ? {} : { invalid: r.invalid }) })),
    // Subject ids and approver names stay out: decide() does not read them.
    watchlist: input.facts.watchlist.map((w) => ({ kind: w.kind, from: w.from, until: w.until ?? null })),
    // Checkpoints and use counts only when set, so rows of plain approvals keep their old shape.
    approvals: input.facts.approvals.map((a) => ({
      validFrom: a.validFrom,
      validUntil: a.validUntil,
      ...(a.checkpoints === undefined ? {} : { checkpoints: [...a.checkpoints] }),
      ...(a.maxUses === undefined ? {} : { maxUses: a.maxUses, uses: a.uses ?? 0 }),
    })),
    // Only areas a visit could match: no other area can change any profile's decision.
    riskAreas: visited === null ? [] : areas.filter((a) => visited.has(normalizeRegion(a.region))),
    ...(input.facts.checkpoint !== undefined && input.facts.approvals.some((a) => a.checkpoints !== undefined) ? { checkpoint: input.facts.checkpoint } : {}),
    ...(input.facts.leave !== undefined && input.facts.leave.length > 0 ? { leave: input.facts.leave.map((l) => ({ out: l.out, back: l.back })) } : {}),
    // Crew id, responsible person and members stay out: decide() reads only dates and places.
    ...(crews.length > 0
      ? {
          crews: crews.map((cr) => ({
            validFrom: cr.validFrom,
            validUntil: cr.validUntil,
            itinerary: (Array.isArray(cr.itinerary) ? cr.itinerary : []).map((v) => ({ region: v.region, from: v.from, to: v.to })),
          })),
        }
      : {}),
    // The plate and the driver's id stay out: decide() compares the id, nothing more.
    ...(input.facts.vehicle !== undefined && c.ok
      ? {
          vehicle: {
            goods: input.facts.vehicle.goods,
            driverMatches: input.facts.vehicle.driver === c.subject.id,
            goodsToday: [...(Array.isArray(input.facts.vehicle.goodsToday) ? input.facts.vehicle.goodsToday : [])],
          },
        }
      : {}),
  };
}

/** Copied field by field, so nothing a pass or certificate carries beyond these reaches the ledger. */
function healthOnly(h: SubjectHealth): SubjectHealth {
  if (isDccHealth(h)) return { source: 'dcc', dcc: dccOnly(h.dcc), ...(h.test ? { test: { result: h.test.result, sampledAt: h.test.sampledAt } } : {}) };
  const out: HealthFacts = { healthCode: h.healthCode };
  if (h.travel) {
    const visits = Array.isArray(h.travel.visits) ? h.travel.visits : [];
    out.travel = { riskLevel: h.travel.riskLevel, visits: visits.map((v) => ({ region: v.region, from: v.from, to: v.to })), asOf: h.travel.asOf };
  }
  if (h.test) out.test = { result: h.test.result, sampledAt: h.test.sampledAt };
  return out;
}

function dccOnly(c: DccFacts): DccFacts {
  switch (c.type) {
    case 'test':
      return { type: 'test', testType: c.testType };
    case 'vaccination':
      return { type: 'vaccination', dose: c.dose, series: c.series, date: c.date };
    case 'recovery':
      return { type: 'recovery', validFrom: c.validFrom, validUntil: c.validUntil };
  }
}

/**
 * What a passage decided with health checks off stands for under a profile that checks
 * health: nothing is known, so every health rule fails closed (a code that is not a
 * colour reads as not green; no travel record; no test).
 */
const NOT_READ: HealthFacts = { healthCode: 'not-read' as HealthFacts['healthCode'] };

/** The decide() input these facts stand for, under `profile`. */
export function inputFromFacts(f: EvaluatedFacts, profile: PolicyProfile): DecideInput {
  const c = f.credential;
  return {
    credential: c.ok
      ? { ok: true, kind: c.kind, subject: { id: '', name: '', category: c.category, health: c.health ?? NOT_READ } }
      : { ok: false, kind: c.kind, code: c.code, detail: '' },
    readings: f.readings,
    facts: {
      watchlist: f.watchlist.map((w) => ({ subjectId: '', kind: w.kind, from: w.from, until: w.until })),
      approvals: f.approvals.map((a) => ({
        subjectId: '',
        approver: '',
        hostDepartment: '',
        validFrom: a.validFrom,
        validUntil: a.validUntil,
        ...(a.checkpoints === undefined ? {} : { checkpoints: a.checkpoints }),
        ...(a.maxUses === undefined ? {} : { maxUses: a.maxUses, uses: a.uses ?? 0 }),
      })),
      riskAreas: f.riskAreas,
      ...(f.checkpoint === undefined ? {} : { checkpoint: f.checkpoint }),
      ...(f.leave === undefined ? {} : { leave: f.leave.map((l) => ({ staffId: '', destination: '', out: l.out, back: l.back })) }),
      ...(f.crews === undefined ? {} : { crews: f.crews.map((c) => ({ id: '', responsible: '', members: [], validFrom: c.validFrom, validUntil: c.validUntil, itinerary: c.itinerary })) }),
      // The subject's id is '' on replay: a matching driver is '' too, another one is not.
      ...(f.vehicle === undefined
        ? {}
        : { vehicle: { plate: '', goods: f.vehicle.goods, driver: f.vehicle.driverMatches ? '' : '(another driver)', goodsToday: f.vehicle.goodsToday } }),
    },
    profile,
    now: f.now,
  };
}

/** The outcome of a verdict; `measure` means the new profile would have asked for another reading. */
export type ReplayOutcome = Outcome | 'measure';

export function replayVerdict(f: EvaluatedFacts, profile: PolicyProfile): Verdict {
  return decide(inputFromFacts(f, profile));
}

export interface ReplayInputRow {
  seq: number;
  at: number;
  lane: string;
  outcome: Outcome;
  reasons: { code: string }[];
  category: string | null;
  /** Keyed pseudonym of the person (zone presence follows it); null when none. */
  subjectRef?: string | null;
  facts: EvaluatedFacts;
}

export interface ReplayChange {
  seq: number;
  at: number;
  lane: string;
  category: string | null;
  from: Outcome;
  to: ReplayOutcome;
  fromCodes: string[];
  toCodes: string[];
}

export interface ReplayReport {
  /** Rows re-decided. */
  replayed: number;
  /** Same outcome and the same reason codes. */
  unchanged: number;
  /** Same outcome, different reason codes (e.g. a second reason on a refusal). */
  reasonsChanged: number;
  /** Outcome changed, by "from→to" (e.g. "admit→refuse"). */
  changedBy: Record<string, number>;
  /** Total rows whose outcome changed. */
  changed: number;
  /** The first `maxExamples` changes, in ledger order. */
  examples: ReplayChange[];
  /** Every change's seq, when `keepAll` was asked for (tests, exports). */
  all?: ReplayChange[];
}

/**
 * The zones as the replayed decisions would have filled them. A row keeps the count it
 * met; the replay adds how many more (or fewer) people the new decisions let in or out
 * before it, and follows each person's own entries. A count correction (a guard or a
 * scheduled reset) sets the count for both histories, so the difference starts over.
 */
class ReplayZones {
  readonly #corrections: (zone: string) => readonly { at: number; to: number }[];
  readonly #zones = new Map<string, { delta: number; corrections: readonly { at: number; to: number }[]; next: number; inside: Map<string, number | null> }>();

  constructor(corrections: (zone: string) => readonly { at: number; to: number }[]) {
    this.#corrections = corrections;
  }

  /** The zone as the replayed history meets this passage. */
  seen(zone: ZoneAtPassage, at: number, subjectRef: string | null): ZoneAtPassage {
    const z = this.#state(zone.id);
    for (; z.next < z.corrections.length && (z.corrections[z.next]?.at ?? Infinity) <= at; z.next++) {
      z.delta = 0;
      if (z.corrections[z.next]?.to === 0) z.inside.clear();
    }
    const own = subjectRef === null ? undefined : z.inside.get(subjectRef);
    return { ...zone, count: Math.max(0, zone.count + z.delta), openEntryAt: own === undefined ? zone.openEntryAt : own };
  }

  /** After the row: how the two histories moved apart. */
  passed(was: ZoneAtPassage, is: ZoneAtPassage, at: number, subjectRef: string | null, wasAdmit: boolean, isAdmit: boolean): void {
    const z = this.#state(was.id);
    if (was.direction === 'in') {
      // Someone already inside takes no second place (as the store counts).
      z.delta += Number(isAdmit && is.openEntryAt === null) - Number(wasAdmit && was.openEntryAt === null);
      if (subjectRef !== null) z.inside.set(subjectRef, isAdmit ? at : is.openEntryAt);
    } else {
      z.delta -= Number(isAdmit) - Number(wasAdmit);
      if (subjectRef !== null) z.inside.set(subjectRef, isAdmit ? null : is.openEntryAt);
    }
  }

  #state(id: string) {
    let z = this.#zones.get(id);
    if (!z) {
      z = { delta: 0, corrections: [...this.#corrections(id)].sort((a, b) => a.at - b.at), next: 0, inside: new Map() };
      this.#zones.set(id, z);
    }
    return z;
  }
}

export interface ReplayTallyOptions {
  maxExamples?: number;
  keepAll?: boolean;
  /** A zone's count corrections (guards, scheduled resets); default none. */
  zoneCorrections?: (zone: string) => readonly { at: number; to: number }[];
}

/** Accumulates a report row by row, so a ledger of any size streams through it. */
export class ReplayTally {
  readonly #profile: PolicyProfile;
  readonly #max: number;
  readonly #keepAll: boolean;
  readonly #zones: ReplayZones;
  readonly report: ReplayReport = { replayed: 0, unchanged: 0, reasonsChanged: 0, changedBy: {}, changed: 0, examples: [] };

  constructor(profile: PolicyProfile, opts: ReplayTallyOptions = {}) {
    this.#profile = profile;
    this.#max = opts.maxExamples ?? 10;
    this.#keepAll = opts.keepAll ?? false;
    this.#zones = new ReplayZones(opts.zoneCorrections ?? (() => []));
    if (this.#keepAll) this.report.all = [];
  }

  add(row: ReplayInputRow): void {
    let verdict = replayVerdict(row.facts, this.#profile);
    const was = row.facts.zone;
    if (was !== undefined) {
      const ref = row.subjectRef ?? null;
      const is = this.#zones.seen(was, row.at, ref);
      if (verdict.outcome !== 'measure') verdict = applyZone(verdict, is, row.facts.now);
      this.#zones.passed(was, is, row.at, ref, row.outcome === 'admit', verdict.outcome === 'admit');
    }
    const to: ReplayOutcome = verdict.outcome;
    const toCodes = verdict.outcome === 'measure' ? [verdict.reason.code] : verdict.reasons.map((r) => r.code);
    const fromCodes = row.reasons.map((r) => r.code);
    const r = this.report;
    r.replayed++;
    if (to === row.outcome) {
      if (sameCodes(fromCodes, toCodes)) r.unchanged++;
      else r.reasonsChanged++;
      return;
    }
    const change: ReplayChange = { seq: row.seq, at: row.at, lane: row.lane, category: row.category, from: row.outcome, to, fromCodes, toCodes };
    const key = `${row.outcome}→${to}`;
    r.changedBy[key] = (r.changedBy[key] ?? 0) + 1;
    r.changed++;
    if (r.examples.length < this.#max) r.examples.push(change);
    r.all?.push(change);
  }
}

function sameCodes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}
