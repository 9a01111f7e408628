import type { Category, CredentialKind, HealthFacts } from '../credentials/types.js';
import type { Alert, Approval, CrewRegistration, EvaluatedFacts, LeaveRecord, Outcome, Reason, RiskArea, WatchlistEntry } from '../policy/types.js';

/** What the lane hands the ledger for one passage attempt. */
export interface NewLedgerEntry {
  /** Stable event id (UUID), chosen by the caller so retries never duplicate. */
  id: string;
  /** Epoch ms of the decision. */
  at: number;
  lane: string;
  /** decision: a normal passage; timeout: the passage was abandoned; fault: a device failed after a decision (e.g. the gate did not open); override: a guard opened the gate by hand. */
  kind: 'decision' | 'timeout' | 'fault' | 'override';
  outcome: Outcome;
  reasons: Reason[];
  alerts: Alert[];
  credential: CredentialKind;
  /** Keyed pseudonym of the subject (never the raw id), null when unknown. */
  subjectRef: string | null;
  /** Local only: the name as read, for the guard's ledger search. Never published. */
  subjectName: string | null;
  category: Category | null;
  temperature: number | null;
  /** Who signed for it: the guard id of an override (store schema 3); null or absent otherwise. */
  actor?: string | null;
  /** The guard's free text of an override; null or absent otherwise. */
  note?: string | null;
  /** Name of the policy profile that decided (store schema 4); absent when none did. */
  profile?: string | null;
  /** sha256 (hex) of that profile's content, so the exact rules in force are known. */
  profileHash?: string | null;
  /** Local only: the approver of the approval this admission used (store schema 6). Never published. */
  approver?: string | null;
  /** approvalKey() of that approval; committing the row counts one use of it. Write-only. */
  approvalKey?: string | null;
  /** Local only: the person responsible for the crew a contractor's admission relied on (store schema 8). Never published. */
  responsible?: string | null;
  /** The office's id of that crew registration (store schema 8). */
  crewId?: string | null;
  /** Local only: number plate of the vehicle pass decided with this passage (store schema 9). Never published. */
  plate?: string | null;
  /** Local only: goods category of that vehicle pass (store schema 9). Never published. */
  goods?: string | null;
  /** What the policy evaluated, for policy replay. Write-only: rows read back omit it (see replayRows). */
  facts?: EvaluatedFacts | null;
}

/** A guard's correction of a zone's count. */
export interface ZoneCorrection {
  zone: string;
  at: number;
  guard: string;
  from: number;
  to: number;
  reason: string;
}

/** A ledger row as policy replay reads it. */
export interface ReplayRow {
  seq: number;
  id: string;
  at: number;
  lane: string;
  outcome: Outcome;
  reasons: Reason[];
  category: Category | null;
  /** Keyed pseudonym: replay follows a person through a zone by it. */
  subjectRef: string | null;
  profile: string | null;
  facts: EvaluatedFacts;
}

/** A stored ledger row: the entry plus its per-gateway sequence number. */
export interface LedgerEntry extends NewLedgerEntry {
  seq: number;
}

export interface LedgerQuery {
  lane?: string;
  outcome?: Outcome;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Default 100, at most 1000. */
  limit?: number;
  /** Only rows with seq below this (paging, newest first). */
  beforeSeq?: number;
  /** Only rows of this subject pseudonym (contact tracing). */
  subjectRef?: string;
  /** Only rows read from this kind of credential. */
  credential?: CredentialKind;
  /** Guard search: rows whose pseudonym is `ref` or whose local name contains `name`. */
  subjectMatch?: { ref: string; name: string };
}

/** Ledger rows per hour bucket of a day (guard console chart). */
export interface LedgerHourCount {
  /** Whole hours since the `from` of the query. */
  hour: number;
  kind: NewLedgerEntry['kind'];
  outcome: Outcome;
  n: number;
}

/** A subject's first decided passage in a time range (daily screening). */
export interface FirstPassage {
  subjectRef: string;
  at: number;
  lane: string;
  outcome: Outcome;
}

export interface OutboxMessage {
  topic: string;
  payload: string;
  qos: 0 | 1;
}

export interface OutboxRow extends OutboxMessage {
  id: number;
  createdAt: number;
}

/** A roster entry kept current by the central office. */
export interface RosterEntry {
  staffId: string;
  name: string;
  category: Category;
  health: HealthFacts;
  /** false = badge withdrawn; treated as not in roster. */
  active: boolean;
  /** A reported trip (store schema 7), kept in leave_records; write-only: rosterGet does not return it. */
  leave?: { destination: string; out: string; back: string | null };
  /** Epoch ms of the last change. */
  updatedAt: number;
}

/** The read side the outbox drain needs. */
export interface OutboxSource {
  outboxPending(limit: number, afterId?: number): OutboxRow[];
  markDelivered(id: number): void;
  /** Many PUBACKs in one commit (one fsync instead of one per row). Optional for fakes. */
  markDeliveredMany?(ids: readonly number[]): void;
  outboxDepth(): number;
}

export interface Store extends OutboxSource, AlertStore {
  readonly path: string;
  /** Ledger row and outbox row in one transaction; the message is built from the stored row. */
  appendDecision(entry: NewLedgerEntry, toOutbox: (row: LedgerEntry) => OutboxMessage | null): LedgerEntry;
  queryEvents(q: LedgerQuery): LedgerEntry[];
  rosterGet(staffId: string): RosterEntry | undefined;
  /** Insert or replace entries in one transaction; returns the count written. */
  rosterUpsert(entries: RosterEntry[]): number;
  watchlistFor(subjectId: string): WatchlistEntry[];
  /** Leave records of a staff id, oldest trip first (none before store schema 7). */
  leaveFor(staffId: string): LeaveRecord[];
  watchlistReplace(entries: WatchlistEntry[]): void;
  approvalsFor(subjectId: string): Approval[];
  approvalsReplace(entries: Approval[]): void;
  /** Crew registrations naming this subject as a member (none before store schema 8). */
  crewsFor(subjectId: string): CrewRegistration[];
  /** Goods categories of the admissions of `plate` in [from, to) (epoch ms), in ledger order (store schema 9). */
  vehicleGoods(plate: string, from: number, to: number): string[];
  /** Replaces every crew registration in one transaction. */
  crewsReplace(entries: CrewRegistration[]): void;
  riskAreas(): RiskArea[];
  riskAreasReplace(entries: RiskArea[]): void;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  close(): void;
}

/**
 * An alert as stored and published (…/alerts) and shown on the guard console. Alerts of a
 * decision are written in the decision's transaction; others (device down/up, guard
 * override, gate held, rejected update) on their own. CONTRACT for the MQTT and guard
 * console work: the implementation lands with the MQTT issue.
 */
export interface AlertRecord {
  /** Stable id (UUID), so the central office can drop duplicates. */
  id: string;
  at: number;
  /** null for gateway-wide alerts (e.g. a rejected update). */
  lane: string | null;
  /** e.g. fever, health-code, risk-area, watchlist, visitor-refused, forged-pass, device-down, device-up, guard-override, gate-held, tailgate, update-rejected, zone-corrected */
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  /** The reason code behind it (TEMP_FEVER, DEVICE_DOWN_SCANNER, …). */
  code: string;
  /** The ledger event that raised it, when one did. */
  eventId: string | null;
  /** Short text for the guard; never a name or an id number. */
  detail: string | null;
  /**
   * How many occurrences this alert stands for, when repeats are folded into one
   * (`update-rejected`). Published as `count`; not stored (the detail says it too).
   */
  count?: number;
}

export interface StoredAlert extends AlertRecord {
  ackedBy: string | null;
  ackedAt: number | null;
}

export interface AlertQuery {
  from?: number;
  to?: number;
  lane?: string;
  unackedOnly?: boolean;
  /** Only alerts still to acknowledge: unacknowledged and not `info`. */
  open?: boolean;
  limit?: number;
}

/** Alert persistence; to be implemented by the SQLite store (see AlertRecord). */
export interface AlertStore {
  /** Insert the alert and, when toOutbox gives one, its outbox row, in one transaction. */
  appendAlert(alert: AlertRecord, toOutbox: (a: AlertRecord) => OutboxMessage | null): void;
  queryAlerts(q: AlertQuery): StoredAlert[];
  /** Record who acknowledged it; false when unknown or already acknowledged. */
  ackAlert(id: string, guardId: string, at: number): boolean;
  /**
   * What is left to acknowledge: passages (the alerts of one ledger event count once) and
   * alerts of no passage, unacknowledged and not `info` (info needs no acknowledgement).
   */
  unackedAlertCount(): number;
}
