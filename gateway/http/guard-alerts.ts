// The guard console's alert list. A refusal for a red code, a risk area and no approval
// raises three alerts (one per kind, as the office receives them on …/alerts), but the
// guard handles one person: the alerts of one passage are one row. Repeats — the same
// person refused again for the same reasons, a device that keeps dropping out — fold into
// one row with a count. Pure: the API reads the alerts and their passages from the store.
import type { Outcome } from '../policy/types.js';
import type { LedgerEntry, StoredAlert } from '../store/types.js';

/** open: still to acknowledge; info: needs no acknowledgement (a device back); done: acknowledged. */
export type AlertRowState = 'open' | 'info' | 'done';

/** The passage behind a row, as the guard reads it (reasons without the kiosk's instructions). */
export interface AlertPassage {
  id: string;
  seq: number;
  at: string;
  kind: LedgerEntry['kind'];
  outcome: Outcome;
  name: string | null;
  reasons: { code: string; zh: string; en: string }[];
}

export interface AlertRow {
  /** Every alert folded into the row: acknowledging the row acknowledges these. */
  ids: string[];
  state: AlertRowState;
  lane: string | null;
  /** The most severe of its alerts. */
  severity: StoredAlert['severity'];
  /** Kinds and codes of the newest occurrence, in the order they were raised. */
  kinds: string[];
  codes: string[];
  /** How many passages (or alerts of no passage) the row stands for. */
  count: number;
  /** Epoch ms of the oldest and the newest occurrence. */
  first: number;
  last: number;
  /** The newest occurrence's passage; null for alerts of no passage (devices, updates, ...). */
  passage: AlertPassage | null;
  /** The latest acknowledgement, on a done row. */
  ackedBy: string | null;
  ackedAt: number | null;
  /** The newest alert's technical detail (English; never a name). */
  detail: string | null;
}

const RANK: Record<StoredAlert['severity'], number> = { info: 0, warning: 1, critical: 2 };

interface Occurrence {
  alerts: StoredAlert[];
  state: AlertRowState;
  at: number;
  event: LedgerEntry | undefined;
}

function stateOf(alerts: readonly StoredAlert[]): AlertRowState {
  if (alerts.every((a) => a.severity === 'info')) return 'info';
  return alerts.some((a) => a.severity !== 'info' && a.ackedAt === null) ? 'open' : 'done';
}

function passageOf(e: LedgerEntry): AlertPassage {
  return {
    id: e.id,
    seq: e.seq,
    at: new Date(e.at).toISOString(),
    kind: e.kind,
    outcome: e.outcome,
    name: e.subjectName,
    reasons: e.reasons.map((r) => ({ code: r.code, zh: r.zh, en: r.en })),
  };
}

/** What makes two occurrences repeats of each other: same state, lane, person and alerts. */
function signature(o: Occurrence): string {
  const alerts = [...new Set(o.alerts.map((a) => `${a.kind}:${a.code}`))].sort();
  return JSON.stringify([o.state, o.alerts[0]?.lane ?? null, o.event?.subjectRef ?? null, alerts]);
}

/**
 * The rows of the alert list from alerts newest first and the ledger rows of their
 * passages: open rows first, newest first, then information and acknowledged rows,
 * newest first.
 */
export function alertRows(alerts: readonly StoredAlert[], events: ReadonlyMap<string, LedgerEntry>): AlertRow[] {
  const byKey = new Map<string, Occurrence>();
  for (const a of alerts) {
    const key = a.eventId ?? a.id;
    const o = byKey.get(key);
    if (o === undefined) byKey.set(key, { alerts: [a], state: 'open', at: a.at, event: a.eventId === null ? undefined : events.get(a.eventId) });
    else {
      o.alerts.push(a);
      o.at = Math.max(o.at, a.at);
    }
  }
  const rows = new Map<string, { occurrences: Occurrence[] }>();
  for (const o of byKey.values()) {
    // Raised order (the input is newest first), so the kinds read as the policy found them.
    o.alerts.reverse().sort((x, y) => x.at - y.at);
    o.state = stateOf(o.alerts);
    const sig = signature(o);
    const row = rows.get(sig);
    if (row === undefined) rows.set(sig, { occurrences: [o] });
    else row.occurrences.push(o);
  }
  const out = [...rows.values()].map(({ occurrences }) => toRow(occurrences));
  const order = (r: AlertRow): number => (r.state === 'open' ? 0 : 1);
  return out.sort((x, y) => order(x) - order(y) || y.last - x.last);
}

function toRow(occurrences: Occurrence[]): AlertRow {
  occurrences.sort((x, y) => y.at - x.at);
  const newest = occurrences[0]!;
  const all = occurrences.flatMap((o) => o.alerts);
  const acked = all.filter((a) => a.ackedAt !== null).sort((x, y) => (y.ackedAt ?? 0) - (x.ackedAt ?? 0))[0];
  const latestAlert = newest.alerts.at(-1)!;
  return {
    ids: all.map((a) => a.id),
    state: newest.state,
    lane: latestAlert.lane,
    severity: all.reduce((s, a) => (RANK[a.severity] > RANK[s] ? a.severity : s), 'info' as StoredAlert['severity']),
    kinds: [...new Set(newest.alerts.map((a) => a.kind))],
    codes: [...new Set(newest.alerts.map((a) => a.code))],
    count: occurrences.length,
    first: Math.min(...occurrences.map((o) => o.at)),
    last: newest.at,
    passage: newest.event === undefined ? null : passageOf(newest.event),
    ackedBy: newest.state === 'done' ? (acked?.ackedBy ?? null) : null,
    ackedAt: newest.state === 'done' ? (acked?.ackedAt ?? null) : null,
    detail: latestAlert.detail,
  };
}
