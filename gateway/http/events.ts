// GET /api/events: query validation and the public shape of a ledger row.
// The public shape is built field by field so a column added to the ledger later
// (or subjectName, which is local to the guard) never leaks by accident.
import { z } from 'zod';
import type { CredentialKind, Category } from '../credentials/types.js';
import type { Alert, Outcome, Reason } from '../policy/types.js';
import type { LedgerEntry, LedgerQuery } from '../store/types.js';
import { HttpError, describeValue, issueMessage } from './errors.js';

export interface PublicEvent {
  id: string;
  seq: number;
  /** ISO 8601, UTC. */
  at: string;
  lane: string;
  kind: LedgerEntry['kind'];
  outcome: Outcome;
  reasons: Reason[];
  alerts: Alert[];
  credential: CredentialKind;
  /** The pseudonymous subject reference, never a name or an id number. */
  subject: string | null;
  category: Category | null;
  temperature: number | null;
}

export interface EventsResponse {
  events: PublicEvent[];
  /** Pass as `before` to get the next (older) page; null when this page was the last. */
  nextBefore: number | null;
}

export const EVENTS_DEFAULT_LIMIT = 100;
export const EVENTS_MAX_LIMIT = 1000;
const PARAMS = ['lane', 'outcome', 'subject', 'from', 'to', 'limit', 'before'] as const;

const timestamp = z
  .string()
  .pipe(
    z.iso.datetime({
      offset: true,
      error: 'expected an ISO 8601 timestamp with a time zone, e.g. 2024-12-04T08:00:00+08:00',
    }),
  )
  .transform((s) => Date.parse(s));

function positiveInt(max: number): z.ZodType<number, string> {
  const msg = `expected a whole number from 1 to ${max}`;
  return z
    .string()
    .regex(/^[0-9]{1,10}$/, msg)
    .transform(Number)
    .pipe(z.number().int().min(1, msg).max(max, msg));
}

const querySchema = z.object({
  lane: z.string().min(1, 'expected a lane id').max(64, 'expected a lane id of at most 64 characters').optional(),
  outcome: z.enum(['admit', 'refuse', 'refer'], { error: 'expected one of admit, refuse, refer' }).optional(),
  subject: z.string().min(1, 'expected a subject pseudonym').max(128, 'expected a subject pseudonym of at most 128 characters').optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
  limit: positiveInt(EVENTS_MAX_LIMIT).optional(),
  before: positiveInt(Number.MAX_SAFE_INTEGER).optional(),
});

function bad(message: string): HttpError {
  return new HttpError(400, 'BAD_PARAMETER', message);
}

/** Validates the query string of GET /api/events; throws HttpError 400 naming the parameter. */
export function parseEventsQuery(search: URLSearchParams): LedgerQuery & { limit: number } {
  const raw: Record<string, string> = {};
  for (const name of new Set(search.keys())) {
    if (!(PARAMS as readonly string[]).includes(name)) {
      throw bad(`unknown query parameter '${name}': expected one of ${PARAMS.join(', ')}`);
    }
    const values = search.getAll(name);
    if (values.length > 1) throw bad(`query parameter '${name}': expected one value, got ${values.length}`);
    raw[name] = values[0] ?? '';
  }
  const parsed = querySchema.safeParse(raw);
  if (!parsed.success) throw bad(issueMessage(parsed.error, raw, 'query parameter'));
  const q = parsed.data;
  if (q.from !== undefined && q.to !== undefined && q.to <= q.from) {
    throw bad(`query parameter 'to': expected a time after 'from', got ${describeValue(raw['to'])}`);
  }
  const out: LedgerQuery & { limit: number } = { limit: q.limit ?? EVENTS_DEFAULT_LIMIT };
  if (q.lane !== undefined) out.lane = q.lane;
  if (q.outcome !== undefined) out.outcome = q.outcome;
  if (q.subject !== undefined) out.subjectRef = q.subject;
  if (q.from !== undefined) out.from = q.from;
  if (q.to !== undefined) out.to = q.to;
  if (q.before !== undefined) out.beforeSeq = q.before;
  return out;
}

export function toPublicEvent(e: LedgerEntry): PublicEvent {
  return {
    id: e.id,
    seq: e.seq,
    at: new Date(e.at).toISOString(),
    lane: e.lane,
    kind: e.kind,
    outcome: e.outcome,
    reasons: e.reasons.map((r) => {
      const out: Reason = { code: r.code, zh: r.zh, en: r.en };
      if (r.next !== undefined) out.next = { zh: r.next.zh, en: r.next.en };
      return out;
    }),
    alerts: e.alerts.map((a) => ({ kind: a.kind, severity: a.severity, code: a.code })),
    credential: e.credential,
    subject: e.subjectRef,
    category: e.category,
    temperature: e.temperature,
  };
}

/** Newest first, whatever order the store returned; the store is asked for exactly `limit`. */
export function eventsResponse(rows: LedgerEntry[], limit: number): EventsResponse {
  const events = [...rows].sort((a, b) => b.seq - a.seq).map(toPublicEvent);
  const last = events.at(-1);
  return { events, nextBefore: events.length >= limit && last !== undefined ? last.seq : null };
}
