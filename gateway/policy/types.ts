import type { Category, CredentialFailureCode, CredentialKind, ResolvedCredential, SubjectHealth } from '../credentials/types.js';
import type { ZoneAtPassage } from './zones.js';

export type Outcome = 'admit' | 'refuse' | 'refer';

/** zh-CN first, English second, as everywhere a person reads it. */
export interface Text {
  zh: string;
  en: string;
}

export interface Reason {
  /** Stable code, e.g. HEALTH_CODE_RED. Never reworded once shipped. */
  code: string;
  zh: string;
  en: string;
  /** For refusals: what the person should do next. */
  next?: Text;
}

export type AlertKind =
  | 'fever'
  | 'health-code'
  | 'risk-area'
  | 'watchlist'
  | 'visitor-refused'
  | 'forged-pass'
  | 'device-fault'
  /** An admitted person is held at a shut gate: the relay did not take the open command. */
  | 'gate-held'
  /** A rule enforced `soft` failed: the person was admitted, the office should know. */
  | 'soft-rule'
  /** A second entry without an exit (anti-passback). */
  | 'anti-passback';

export interface Alert {
  kind: AlertKind;
  severity: 'info' | 'warning' | 'critical';
  /** The reason code that raised it. */
  code: string;
}

export interface Decision {
  outcome: Outcome;
  /** Every reason that applies; for admit, the checks that passed are not listed. */
  reasons: Reason[];
  alerts: Alert[];
  /** The temperature the decision relied on (°C), when one was taken. */
  temperature?: number;
}

/** The lane must take another temperature reading before a decision can be made. */
export interface MeasureRequest {
  outcome: 'measure';
  reason: Reason;
}

export type Verdict = Decision | MeasureRequest;

/** One thermometer reading as the policy sees it. */
export interface TemperatureReading {
  /** °C; NaN (null once stored as JSON) when `invalid` is set. */
  celsius: number;
  /** Epoch ms the reading was taken. */
  at: number;
  /**
   * Set when the thermometer answered without a temperature (its code, e.g. OUT_OF_RANGE:
   * LU90614 `FF FF`, a saturated MLX field, a GD60914 value off its span).
   */
  invalid?: string;
}

export type WatchlistKind = 'close-contact' | 'isolation' | 'home-monitoring';

export interface WatchlistEntry {
  subjectId: string;
  kind: WatchlistKind;
  /** ISO timestamp from which the entry applies. */
  from: string;
  /** ISO timestamp (exclusive) until which the entry applies; null = until removed. */
  until: string | null;
  note?: string;
}

export interface Approval {
  subjectId: string;
  approver: string;
  hostDepartment: string;
  /** ISO timestamps, inclusive from, exclusive until. */
  validFrom: string;
  validUntil: string;
  /** The central office's id of the approval; its uses are counted under it (see approvalKey). */
  id?: string;
  /** Checkpoint ids it admits at; absent = any checkpoint of the site. */
  checkpoints?: string[];
  /** Admissions it allows in all; absent = no limit. */
  maxUses?: number;
  /** Local fact, filled by the store on read: admissions it has allowed so far. Never sent by the central office. */
  uses?: number;
}

export interface RiskArea {
  region: string;
  level: 'low' | 'medium' | 'high';
  /** ISO date the area became risky ("since 4 Dec"). */
  since: string;
  /** ISO date it stopped being risky, null while still listed. */
  until: string | null;
}

/** A worker's reported leave: where to, when out, when back (null while away). */
export interface LeaveRecord {
  staffId: string;
  destination: string;
  /** ISO date or timestamp with a zone. */
  out: string;
  /** ISO date or timestamp with a zone; null = not back yet. */
  back: string | null;
}

/** A place a crew stayed: region and dates, like a pass's travel visit. */
export interface ItineraryStop {
  region: string;
  /** ISO dates (or timestamps with a zone), inclusive. */
  from: string;
  to: string;
}

/** A contractor crew's registration with the epidemic office (requirement 7). */
export interface CrewRegistration {
  /** The central office's id of the registration. */
  id: string;
  /** The named person responsible for the crew. Local only: recorded with admissions, never published. */
  responsible: string;
  /** Subject ids of the crew's members. */
  members: string[];
  /** ISO timestamps, inclusive from, exclusive until. */
  validFrom: string;
  validUntil: string;
  /** Where the crew stayed in the last 14 days. */
  itinerary: ItineraryStop[];
}

/** Local facts about this subject, gathered from the store before deciding. */
export interface LocalFacts {
  watchlist: WatchlistEntry[];
  approvals: Approval[];
  riskAreas: RiskArea[];
  /** This gateway's checkpoint id, for approvals limited to some checkpoints. */
  checkpoint?: string;
  /** This subject's leave records (leave and return); absent = none. */
  leave?: LeaveRecord[];
  /** Crew registrations naming this subject as a member; absent = none. */
  crews?: CrewRegistration[];
  /** The vehicle pass scanned just before this (driver's) pass, on a vehicle gate; absent = none. */
  vehicle?: VehicleAtGate;
}

/** A verified vehicle pass as the policy judges it, with what this plate did today. */
export interface VehicleAtGate {
  /** Local only: recorded in the ledger, never published, never read by decide(). */
  plate: string;
  /** Goods category id from the pass. */
  goods: string;
  /** The driver's pass `sub` the vehicle pass names; must be the subject's id. */
  driver: string;
  /** Goods categories of this plate's admissions earlier today (local day), one per admission. */
  goodsToday: string[];
}

/** The vehicle rule of a vehicle gate (requirement 10). Always hard. */
export interface VehicleRule {
  /** Goods categories always admitted (subject to the driver's own checks). */
  essentialGoods: string[];
  /** Admissions per plate per local day with non-essential goods; 0 = non-essential refused. */
  nonEssentialPerDay: number;
}

/**
 * What an EU Digital COVID Certificate may stand for at this checkpoint (docs/policy.md
 * "EU DCC"). A DCC carries no health code and no travel record: a certificate of an
 * accepted type stands in for both; a test certificate then feeds the test rule, an
 * accepted vaccination or recovery certificate stands in for the test too. Always hard.
 */
export interface DccRule {
  /** Test certificates (a nucleic-acid test, LP6464-4). false = no DCC test admits. */
  acceptTest: boolean;
  /** Rapid antigen tests (LP217198-3) count as a test. Default false: the source requires a nucleic-acid test. */
  acceptRapidAntigen: boolean;
  /** Vaccination certificates stand in for a test. Default false. */
  acceptVaccination: boolean;
  /** Recovery certificates stand in for a test. Default false. */
  acceptRecovery: boolean;
  /** Whole days after the last dose before a vaccination counts (local days). */
  vaccinationMinDays: number;
  /** Whole days after the last dose a vaccination still counts. */
  vaccinationMaxDays: number;
}

/**
 * Whether a checkpoint reads health claims at all. `off` turns it into plain access
 * control: identity, category, watchlists, approvals, crews, vehicles and zones still
 * apply; the health code, test, travel record, risk areas and temperature are neither
 * read nor recorded (docs/policy.md "Access control only").
 */
export type HealthChecks = 'on' | 'off';
export const HEALTH_CHECKS: readonly HealthChecks[] = ['on', 'off'];

/** Rules a profile may enforce `soft` (admit, record the reason, alert). */
export const SOFT_RULES = ['category', 'healthCode', 'travel', 'test', 'approval'] as const;
export type SoftRule = (typeof SOFT_RULES)[number];
export type Enforcement = 'hard' | 'soft';
/** Only the soft rules are listed; a rule not listed is hard. */
export type EnforceMap = Partial<Record<SoftRule, Enforcement>>;

export interface PolicyProfile {
  name: string;
  /** Maximum age of a negative test, hours. */
  testWindowHours: number;
  /** Per-category override of testWindowHours. */
  testWindowHoursByCategory: Partial<Record<Category, number>>;
  /** A reading at or above this is a fever (°C). */
  feverThreshold: number;
  /** Readings outside [min, max] are implausible and re-measured. */
  plausibleMin: number;
  plausibleMax: number;
  /** How many extra readings an implausible reading may ask for before referring. */
  implausibleRetries: number;
  /** Days back a stay in a medium/high risk area counts. */
  riskLookbackDays: number;
  /** Categories that need an approval record to pass. */
  approvalRequiredFor: Category[];
  /** Categories admitted at this checkpoint at all. */
  allowedCategories: Category[];
  /**
   * Rules enforced `soft`; absent = every rule hard. A red health code, a positive test
   * and an active watchlist entry are refused whatever this says (the safety floor).
   */
  enforce?: EnforceMap;
  /** Per-category enforcement, over `enforce`. */
  enforceByCategory?: Partial<Record<Category, EnforceMap>>;
  /**
   * Present on a vehicle gate: a driver passes only with a vehicle pass naming them, and
   * the goods must be essential or within the daily limit of non-essential entries.
   */
  vehicle?: VehicleRule;
  /**
   * `off`: access control only (see HealthChecks); the health rules' parameters above are
   * then not read. Absent = `on`, so every profile written before this key keeps its hash.
   */
  healthChecks?: 'off';
  /** What an EU DCC may stand for; absent = DCC_DEFAULTS (test certificates of a nucleic-acid test only). */
  dcc?: DccRule;
}

export interface DecideInput {
  credential: ResolvedCredential;
  /** Readings for this passage, oldest first. */
  readings: TemperatureReading[];
  facts: LocalFacts;
  profile: PolicyProfile;
  /** Epoch ms, from the injected clock. */
  now: number;
}

/**
 * What decide() evaluated for one passage, without names or raw ids, kept in the ledger
 * so the passage can be re-decided under another profile (policy replay). Risk areas are
 * only those whose region matches a visit: no other area can change a decision.
 */
export interface EvaluatedFacts {
  v: 1;
  /** The `now` decide() was called with, epoch ms. */
  now: number;
  credential:
    /** `health` is absent when the profile had health checks off: nothing of it was read. */
    | { ok: true; kind: 'health-pass' | 'staff-badge' | 'dcc'; category: Category; health?: SubjectHealth }
    | { ok: false; kind: CredentialKind; code: CredentialFailureCode };
  readings: TemperatureReading[];
  watchlist: { kind: WatchlistKind; from: string; until: string | null }[];
  approvals: { validFrom: string; validUntil: string; checkpoints?: string[]; maxUses?: number; uses?: number }[];
  /** The checkpoint it was decided at, when approvals named checkpoints. */
  checkpoint?: string;
  /** Leave dates (no destination), when the subject had any. */
  leave?: { out: string; back: string | null }[];
  riskAreas: RiskArea[];
  /** Crew registrations (no id, no responsible person, no members), when the subject had any. */
  crews?: { validFrom: string; validUntil: string; itinerary: ItineraryStop[] }[];
  /** The vehicle pass decided with this pass (no plate, no driver id), when there was one. */
  vehicle?: { goods: string; driverMatches: boolean; goodsToday: string[] };
  /** The zone of the lane (rule, direction, count and this person's open entry), when it had one. */
  zone?: ZoneAtPassage;
}
