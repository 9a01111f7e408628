// The JSON published on …/events for one ledger row. Built field by field from a
// whitelist, so a field added to the ledger later (or the local-only subjectName) can
// never reach the central office by accident.
import type { Category, CredentialKind } from '../credentials/types.js';
import { isHealthAlert, isHealthReason } from '../policy/health-checks.js';
import type { Alert, HealthChecks, Outcome } from '../policy/types.js';
import { jsonString } from '../store/chain.js';
import type { LedgerEntry } from '../store/types.js';
import { isPseudonym } from './pseudonym.js';

export interface EventMessageContext {
  site: string;
  checkpoint: string;
  /**
   * The gateway's health checks setting now. With `off` no event carries a temperature or
   * a health reason or alert, even one built from a row stored before (a resend).
   */
  healthChecks?: () => HealthChecks;
}

/** Version 1 of the event payload. Fields are only ever added, never renamed. */
export interface EventMessageV1 {
  v: 1;
  /** Stable event id (UUID): the receiver drops duplicates by it. */
  id: string;
  /** Per-gateway sequence number; gaps mean rows the receiver has not seen yet. */
  seq: number;
  /** ISO 8601 UTC time of the decision. */
  at: string;
  site: string;
  checkpoint: string;
  lane: string;
  kind: LedgerEntry['kind'];
  outcome: Outcome;
  /** Stable reason codes only; the texts are the gateway's and the office's business. */
  reasons: string[];
  alerts: Alert[];
  credential: CredentialKind;
  /** Keyed pseudonym (`p1_…`), null when unknown. */
  subject: string | null;
  category: Category | null;
  /** °C the decision relied on, null when none was taken. */
  temperature: number | null;
}

export function toEventMessage(row: LedgerEntry, ctx: EventMessageContext): EventMessageV1 {
  const health = ctx.healthChecks?.() !== 'off';
  return {
    v: 1,
    id: row.id,
    seq: row.seq,
    at: isoTime(row.at),
    site: ctx.site,
    checkpoint: ctx.checkpoint,
    lane: row.lane,
    kind: row.kind,
    outcome: row.outcome,
    reasons: row.reasons.filter((r) => health || !isHealthReason(r)).map((r) => r.code),
    alerts: row.alerts.filter((a) => health || !isHealthAlert(a)).map((a) => ({ kind: a.kind, severity: a.severity, code: a.code })),
    credential: row.credential,
    // Fail closed for privacy: anything that is not a pseudonym (a raw id passed by
    // mistake) is withheld rather than published. Throwing instead would abort the
    // ledger transaction this is built in, losing the event.
    subject: row.subjectRef !== null && isPseudonym(row.subjectRef) ? row.subjectRef : null,
    category: row.category,
    temperature: health ? row.temperature : null,
  };
}

/**
 * The payload string for …/events: JSON.stringify(toEventMessage(row, ctx)), written out
 * (every decision builds one inside its transaction; the object, its filtered and mapped
 * arrays and the stringify walk cost about twice as much). A property test holds the two
 * equal byte for byte.
 */
export function eventMessage(row: LedgerEntry, ctx: EventMessageContext): string {
  // A field of another type than its declared one (a row built by hand) goes the general
  // way, which leaves an undefined member out rather than write it.
  if (!plainFields(row, ctx)) return JSON.stringify(toEventMessage(row, ctx));
  const health = ctx.healthChecks?.() !== 'off';
  let reasons = '';
  for (const r of row.reasons) {
    // In an array JSON.stringify writes null for what it cannot write (undefined).
    if (health || !isHealthReason(r)) reasons += `${reasons === '' ? '' : ','}${typeof r.code === 'string' ? jsonString(r.code) : (JSON.stringify(r.code) ?? 'null')}`;
  }
  let alerts = '';
  for (const a of row.alerts) {
    if (health || !isHealthAlert(a)) alerts += `${alerts === '' ? '' : ','}${JSON.stringify({ kind: a.kind, severity: a.severity, code: a.code })}`;
  }
  const subject = row.subjectRef !== null && isPseudonym(row.subjectRef) ? row.subjectRef : null;
  return (
    // An ISO time needs no escaping.
    `{"v":1,"id":${json(row.id)},"seq":${json(row.seq)},"at":"${isoTime(row.at)}","site":${json(ctx.site)},` +
    `"checkpoint":${json(ctx.checkpoint)},"lane":${json(row.lane)},"kind":${json(row.kind)},"outcome":${json(row.outcome)},` +
    `"reasons":[${reasons}],"alerts":[${alerts}],"credential":${json(row.credential)},"subject":${json(subject)},` +
    `"category":${json(row.category)},"temperature":${json(health ? row.temperature : null)}}`
  );
}

/** True when every field eventMessage writes itself has its declared type. */
function plainFields(row: LedgerEntry, ctx: EventMessageContext): boolean {
  return (
    typeof row.id === 'string' &&
    typeof row.seq === 'number' &&
    typeof row.lane === 'string' &&
    typeof row.kind === 'string' &&
    typeof row.outcome === 'string' &&
    typeof row.credential === 'string' &&
    (row.category === null || typeof row.category === 'string') &&
    (row.temperature === null || typeof row.temperature === 'number') &&
    typeof ctx.site === 'string' &&
    typeof ctx.checkpoint === 'string'
  );
}

/** A string, number or null as JSON.stringify writes it (a number that is not finite as null). */
function json(v: string | number | null): string {
  return v === null ? 'null' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null') : jsonString(v);
}

/** The second last written, as its ISO text up to the milliseconds: events come many a second. */
let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * new Date(at).toISOString(), the text of the second kept: only the milliseconds are
 * written per call. Outside years 0–9999 (six-digit years) and for anything but a whole
 * number it is toISOString itself, which also throws as before for an invalid time.
 */
export function isoTime(at: number): string {
  if (!(Number.isSafeInteger(at) && at >= 0 && at < 253_402_300_800_000)) return new Date(at).toISOString();
  const second = Math.floor(at / 1000);
  if (second !== isoSecond) {
    // "YYYY-MM-DDTHH:MM:SS." of that second.
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    isoSecond = second;
  }
  const ms = at - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}
