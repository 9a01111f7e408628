// Reading the office database: the newest events, for `central events` and GET /api/events.
import type { Queryable } from './db/adapter.js';

export interface EventsQuery {
  site?: string;
  checkpoint?: string;
  /** Only events at or after this time (epoch ms). */
  since?: number;
  limit: number;
}

export interface EventRow {
  id: string;
  seq: number;
  at: string;
  site: string;
  checkpoint: string;
  lane: string;
  kind: string;
  outcome: string;
  reasons: string[];
  subject: string | null;
  temperature: number | null;
  historical: boolean;
  receivedAt: string;
}

export const MAX_EVENTS_LIMIT = 10_000;

export async function newestEvents(db: Queryable, q: EventsQuery): Promise<EventRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown): void => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (q.site !== undefined) add('site = ?', q.site);
  if (q.checkpoint !== undefined) add('checkpoint = ?', q.checkpoint);
  if (q.since !== undefined) add('at >= ?', new Date(q.since).toISOString());
  params.push(Math.min(Math.max(1, Math.trunc(q.limit)), MAX_EVENTS_LIMIT));
  const rows = await db.query<Record<string, unknown>>(
    `SELECT id::text AS id, seq, at, site, checkpoint, lane, kind, outcome, reasons, subject, temperature, historical, received_at
       FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY at DESC, seq DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    id: String(r.id),
    seq: Number(r.seq),
    at: new Date(r.at as string).toISOString(),
    site: String(r.site),
    checkpoint: String(r.checkpoint),
    lane: String(r.lane),
    kind: String(r.kind),
    outcome: String(r.outcome),
    reasons: r.reasons as string[],
    subject: (r.subject as string | null) ?? null,
    temperature: r.temperature === null ? null : Number(r.temperature),
    historical: Boolean(r.historical),
    receivedAt: new Date(r.received_at as string).toISOString(),
  }));
}

/** One line per event for a terminal. */
export function formatEvent(e: EventRow): string {
  const t = e.temperature === null ? '' : ` ${e.temperature.toFixed(1)}°C`;
  const reasons = e.reasons.length ? ` ${e.reasons.join(',')}` : '';
  return `${e.at} ${e.site}/${e.checkpoint} #${e.seq} ${e.lane} ${e.kind} ${e.outcome}${reasons}${t} ${e.subject ?? '-'}${e.historical ? ' (historical)' : ''}`;
}
