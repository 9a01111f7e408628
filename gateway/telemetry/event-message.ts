// The JSON published on …/events for one ledger row. Built field by field from a
// whitelist, so a field added to the ledger later (or the local-only subjectName) can
// never reach the central office by accident.
import type { Category, CredentialKind } from '../credentials/types.js';
import { isHealthAlert, isHealthReason } from '../policy/health-checks.js';
import type { Alert, HealthChecks, Outcome } from '../policy/types.js';
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
    at: new Date(row.at).toISOString(),
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

/** The payload string for …/events. */
export function eventMessage(row: LedgerEntry, ctx: EventMessageContext): string {
  return JSON.stringify(toEventMessage(row, ctx));
}
