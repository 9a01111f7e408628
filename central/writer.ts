// Writes one batch of classified messages in the caller's transaction. Exactly-once
// effect: an event or alert id is inserted at most once (event_keys / alert_keys); a
// repeat with the same content is counted as a duplicate, a repeat with other content is
// kept aside in integrity_conflicts and raised as an `integrity` alert, never applied.
import { randomUUID } from 'node:crypto';
import type { Classified } from './classify.js';
import type { Queryable } from './db/adapter.js';

type Keyed = Extract<Classified, { type: 'event' | 'alert' }>;
type Of<T extends Classified['type']> = Extract<Classified, { type: T }>;

export interface WriteResult {
  committed: Record<string, number>;
  duplicates: number;
  conflicts: IntegrityConflict[];
  /** Checkpoints whose seq_watermarks row this batch made sure of (for Watermarked.add once committed). */
  watermarked: string[];
}

/**
 * The checkpoints known to have their seq_watermarks row (rows that are never deleted),
 * so a batch does not ask again for each of its checkpoints: one Ingest keeps one, and
 * adds a batch's `watermarked` only after that batch committed.
 */
export class Watermarked {
  readonly #known = new Set<string>();
  has(key: string): boolean {
    return this.#known.has(key);
  }
  add(keys: readonly string[]): void {
    for (const k of keys) this.#known.add(k);
  }
}

export interface IntegrityConflict {
  kind: 'event' | 'alert';
  id: string;
  topic: string;
  site: string;
  checkpoint: string;
  storedHash: string;
  receivedHash: string;
}

export const INTEGRITY_CODE = 'INTEGRITY_CONFLICT';

// One statement per batch for the keys and the rows (a data-modifying CTE: one round
// trip; the rows only of ids new to the key table). The payloads travel as received, in
// one JSON array, zipped with their content hashes; the answer is one row: how many were
// stored, and the ids that were already known (usually none) for the duplicate/conflict
// check. seq goes through numeric because a payload may write an integer as 5.0.
const INSERT_EVENTS_TEMPLATE = `
WITH input AS (SELECT m, hash FROM ROWS FROM (jsonb_array_elements($1::jsonb), unnest($2::text[])) AS x(m, hash)),
fresh AS (
  INSERT INTO event_keys (id, site, checkpoint, seq, at, content_hash)
  SELECT (m->>'id')::uuid, m->>'site', m->>'checkpoint', (m->>'seq')::numeric::bigint, (m->>'at')::timestamptz, hash FROM input
  ON CONFLICT (id) DO NOTHING
  RETURNING id),
stored AS (
  INSERT INTO events (id, site, checkpoint, seq, at, lane, kind, outcome, reasons, credential, subject, category, temperature, historical, payload)
  SELECT (m->>'id')::uuid, m->>'site', m->>'checkpoint', (m->>'seq')::numeric::bigint, (m->>'at')::timestamptz, m->>'lane', m->>'kind', m->>'outcome',
         ARRAY(SELECT jsonb_array_elements_text(m->'reasons')), m->>'credential', m->>'subject', m->>'category',
         (m->>'temperature')::double precision, coalesce((m->>'historical')::boolean, false), m
    FROM input WHERE (m->>'id')::uuid IN (SELECT id FROM fresh)
  RETURNING 1)%WATERMARKS%
SELECT (SELECT count(*) FROM stored)::int AS stored,
       ARRAY(SELECT (m->>'id')::uuid::text FROM input WHERE (m->>'id')::uuid NOT IN (SELECT id FROM fresh)) AS known`;

// The gap detector's list of checkpoints (one row each, made with the first event), in
// the same statement: $3 holds the batch's pairs not yet known to exist, sorted.
const WATERMARKS = `,
watermarks AS (
  INSERT INTO seq_watermarks (site, checkpoint) SELECT p->>0, p->>1 FROM jsonb_array_elements($3::jsonb) AS p ON CONFLICT DO NOTHING)`;
const INSERT_EVENTS = INSERT_EVENTS_TEMPLATE.replace('%WATERMARKS%', '');
const INSERT_EVENTS_AND_WATERMARKS = INSERT_EVENTS_TEMPLATE.replace('%WATERMARKS%', WATERMARKS);

const INSERT_ALERTS = `
WITH input AS (SELECT m, hash FROM ROWS FROM (jsonb_array_elements($1::jsonb), unnest($2::text[])) AS x(m, hash)),
fresh AS (
  INSERT INTO alert_keys (id, at, content_hash)
  SELECT (m->>'id')::uuid, (m->>'at')::timestamptz, hash FROM input
  ON CONFLICT (id) DO NOTHING
  RETURNING id),
stored AS (
  INSERT INTO alerts (id, site, checkpoint, at, lane, kind, severity, code, event_id, detail, historical, payload)
  SELECT (m->>'id')::uuid, m->>'site', m->>'checkpoint', (m->>'at')::timestamptz, m->>'lane', m->>'kind', m->>'severity', m->>'code',
         m->>'eventId', m->>'detail', coalesce((m->>'historical')::boolean, false), m
    FROM input WHERE (m->>'id')::uuid IN (SELECT id FROM fresh)
  RETURNING 1)
SELECT (SELECT count(*) FROM stored)::int AS stored,
       ARRAY(SELECT (m->>'id')::uuid::text FROM input WHERE (m->>'id')::uuid NOT IN (SELECT id FROM fresh)) AS known`;

/** The months (YYYY-MM, UTC) a batch writes events or alerts into. */
export function monthsOf(items: readonly Classified[], now: number): string[] {
  const months = new Set<string>([new Date(now).toISOString().slice(0, 7)]);
  for (const it of items) if (it.type === 'event' || it.type === 'alert') months.add(new Date(String(it.body.at)).toISOString().slice(0, 7));
  return [...months];
}

export async function writeBatch(tx: Queryable, items: readonly Classified[], now: number, watermarked?: Watermarked): Promise<WriteResult> {
  const result: WriteResult = { committed: {}, duplicates: 0, conflicts: [], watermarked: [] };
  const add = (type: string, n: number): void => {
    if (n > 0) result.committed[type] = (result.committed[type] ?? 0) + n;
  };
  for (const type of ['event', 'alert'] as const) {
    const keyed = items.filter((i): i is Keyed => i.type === type);
    if (keyed.length > 0) await writeKeyed(tx, type, keyed, now, result, add, watermarked);
  }
  for (const it of items) {
    switch (it.type) {
      case 'status':
        add('status', await writeStatus(tx, it));
        break;
      case 'stats':
        add('stats', await writeStats(tx, it));
        break;
      case 'screening':
        add('screening', await writeScreening(tx, it));
        break;
      case 'response':
        add('response', await writeResponse(tx, it, now));
        break;
      case 'rejected':
        await tx.query('INSERT INTO rejected_messages (topic, reason, payload, bytes) VALUES ($1, $2, $3, $4)', [
          it.topic,
          it.reason.slice(0, 500),
          it.payload.replaceAll('\u0000', ''),
          it.bytes,
        ]);
        add('rejected', 1);
        break;
      default:
        break;
    }
  }
  return result;
}

async function writeKeyed(
  tx: Queryable,
  type: 'event' | 'alert',
  keyed: Keyed[],
  now: number,
  result: WriteResult,
  add: (type: string, n: number) => void,
  watermarked: Watermarked | undefined,
): Promise<void> {
  // Repeats inside the batch itself: the first occurrence is the candidate.
  const first = new Map<string, Keyed>();
  const repeats: Keyed[] = [];
  for (const it of keyed) {
    if (first.has(it.id)) repeats.push(it);
    else first.set(it.id, it);
  }
  // Sorted by id: two batches written at once then take their key locks in one order, so
  // a message in both (a redelivery) makes one wait for the other, never a deadlock.
  const candidates = [...first.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const params: unknown[] = [`[${candidates.map((c) => c.text).join(',')}]`, candidates.map((c) => c.hash)];
  let sql = INSERT_ALERTS;
  if (type === 'event') {
    const pairs = [...new Set(candidates.map((c) => JSON.stringify([c.site, c.checkpoint])))].filter((p) => !watermarked?.has(p)).sort();
    sql = pairs.length > 0 ? INSERT_EVENTS_AND_WATERMARKS : INSERT_EVENTS;
    if (pairs.length > 0) params.push(`[${pairs.join(',')}]`);
    result.watermarked.push(...pairs);
  }
  const [answer] = await tx.query<{ stored: number; known: string[] }>(sql, params);
  add(type, answer?.stored ?? 0);
  const knownIds = new Set(answer?.known ?? []);
  const known = [...candidates.filter((c) => knownIds.has(c.id)), ...repeats];
  if (known.length === 0) return;
  const stored = await tx.query<{ id: string; content_hash: string }>(
    `SELECT id::text AS id, content_hash FROM ${type}_keys WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::uuid)`,
    [JSON.stringify([...new Set(known.map((k) => k.id))])],
  );
  const hashOf = new Map(stored.map((r) => [r.id, r.content_hash]));
  for (const k of known) {
    const storedHash = hashOf.get(k.id);
    if (storedHash === undefined || storedHash === k.hash) {
      result.duplicates += 1;
      continue;
    }
    const rows = await tx.query(
      `INSERT INTO integrity_conflicts (message_kind, message_id, topic, stored_hash, received_hash, payload)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id, received_hash) DO NOTHING RETURNING id`,
      [type, k.id, k.topic, storedHash, k.hash, JSON.stringify(k.body)],
    );
    // The same conflicting message delivered again is a duplicate of the conflict.
    if (rows.length === 0) {
      result.duplicates += 1;
      continue;
    }
    await raiseIntegrityAlert(tx, k, storedHash, now);
    result.conflicts.push({ kind: type, id: k.id, topic: k.topic, site: k.site, checkpoint: k.checkpoint, storedHash, receivedHash: k.hash });
  }
}

/** An office-side alert of kind `integrity`, stored like a gateway's alert. */
async function raiseIntegrityAlert(tx: Queryable, k: Keyed, storedHash: string, now: number): Promise<void> {
  const id = randomUUID();
  const at = new Date(now).toISOString();
  const detail = `${k.type} ${k.id} received again with different content (stored ${storedHash.slice(0, 12)}, received ${k.hash.slice(0, 12)}); kept aside in integrity_conflicts`;
  const body = {
    v: 1, id, at, site: k.site, checkpoint: k.checkpoint, lane: null, kind: 'integrity', severity: 'critical',
    code: INTEGRITY_CODE, eventId: k.type === 'event' ? k.id : null, detail, historical: false,
  };
  await tx.query('INSERT INTO alert_keys (id, at, content_hash) VALUES ($1, $2, $3)', [id, at, 'office']);
  await tx.query(
    `INSERT INTO alerts (id, site, checkpoint, at, lane, kind, severity, code, event_id, detail, payload)
     VALUES ($1, $2, $3, $4, NULL, 'integrity', 'critical', $5, $6, $7, $8)`,
    [id, k.site, k.checkpoint, at, INTEGRITY_CODE, k.type === 'event' ? k.id : null, detail, JSON.stringify(body)],
  );
}

/**
 * Current state by session (like Sparkplug's bdSeq): a higher session always wins; within
 * the same session an online birth may be refreshed and an offline is final. So a stale
 * will of an older session never marks a newer online session offline, whichever
 * instance processes which message first.
 */
async function writeStatus(tx: Queryable, it: Of<'status'>): Promise<number> {
  const b = it.body;
  const at = typeof b.at === 'string' ? b.at : null;
  const cause = typeof b.cause === 'string' ? b.cause : null;
  const payload = JSON.stringify(b);
  await tx.query(
    `INSERT INTO checkpoint_status_history (site, checkpoint, session, state, cause, at_key, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [it.site, it.checkpoint, b.session, b.state, cause, at ?? '', payload],
  );
  const rows = await tx.query(
    `INSERT INTO checkpoints AS c (site, checkpoint, state, session, cause, status, status_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (site, checkpoint) DO UPDATE
        SET state = EXCLUDED.state, session = EXCLUDED.session, cause = EXCLUDED.cause,
            status = EXCLUDED.status, status_at = EXCLUDED.status_at, updated_at = now()
      WHERE EXCLUDED.session > c.session
         OR (EXCLUDED.session = c.session AND c.state = 'online'
             AND (EXCLUDED.state = 'offline' OR c.status_at IS NULL OR EXCLUDED.status_at >= c.status_at))
     RETURNING 1`,
    [it.site, it.checkpoint, b.state, b.session, cause, payload, at],
  );
  return rows.length;
}

async function writeStats(tx: Queryable, it: Of<'stats'>): Promise<number> {
  const rows = await tx.query(
    'INSERT INTO stats (site, checkpoint, at, payload) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1',
    [it.site, it.checkpoint, it.body.at, JSON.stringify(it.body)],
  );
  if (typeof it.body.lastSeq === 'number') await reportSeq(tx, it.site, it.checkpoint, it.body.lastSeq);
  return rows.length;
}

/**
 * The gateway's highest ledger seq (…/stats, an applied resend's answer): the gap
 * detector expects every seq up to it, so rows lost after the last event received (a
 * tail gap) are noticed too. Only ever raised (an older stats message may come late).
 */
async function reportSeq(tx: Queryable, site: string, checkpoint: string, lastSeq: number): Promise<void> {
  if (lastSeq <= 0) return;
  await tx.query(
    `INSERT INTO seq_watermarks AS w (site, checkpoint, reported_seq) VALUES ($1, $2, $3)
     ON CONFLICT (site, checkpoint) DO UPDATE SET reported_seq = GREATEST(w.reported_seq, EXCLUDED.reported_seq)`,
    [site, checkpoint, lastSeq],
  );
}

async function writeScreening(tx: Queryable, it: Of<'screening'>): Promise<number> {
  const b = it.body;
  const rows = await tx.query(
    `INSERT INTO daily_screening (site, checkpoint, date, workers, screened, not_screened, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
    [it.site, it.checkpoint, b.date, b.workers, b.screened, b.notScreened, JSON.stringify(b)],
  );
  return rows.length;
}

async function writeResponse(tx: Queryable, it: Of<'response'>, now: number): Promise<number> {
  const b = it.body;
  const transaction = typeof b.transaction === 'string' ? b.transaction : '';
  const version = typeof b.version === 'number' ? b.version : -1;
  const error = b.error as { code?: string } | undefined;
  const rows = await tx.query(
    `INSERT INTO update_responses (site, checkpoint, kind, transaction, version, status, error_code, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING 1`,
    [it.site, it.checkpoint, it.kind, transaction, version, b.status, error?.code ?? null, JSON.stringify(b)],
  );
  if (it.kind === 'resend' && b.status === 'applied' && typeof b.lastSeq === 'number') await reportSeq(tx, it.site, it.checkpoint, b.lastSeq);
  if (it.kind === 'resend' && transaction !== '') {
    await tx.query(
      `UPDATE resend_requests SET answered_at = $6, status = $2, resent = $3, last_seq = $4, error_code = $5
        WHERE transaction = $1 AND answered_at IS NULL`,
      [transaction, b.status, typeof b.resent === 'number' ? b.resent : null, typeof b.lastSeq === 'number' ? b.lastSeq : null, error?.code ?? null, new Date(now).toISOString()],
    );
  }
  return rows.length;
}
