// The office's side of the ledger hash chain (docs/central.md "Ledger chain check"). Each
// gateway's …/stats carries the head of its chain {seq, hash}; the stats rows are stored
// as received. This check reads the new ones, in the office's receiving order, and raises a
// critical `ledger-chain` alert for the checkpoint when its head goes back (a ledger cut
// on the PC, or replaced by an older copy) or when one seq comes with two hashes (a ledger
// rebuilt). A chain only grows — retention cuts old rows after a checkpoint row, which
// moves the head forward — so neither happens to an honest gateway.
// Runs every `integrity.chainCheckMs` on each instance; an advisory lock makes instances
// take turns, each stats row is read once (a cursor in the database), and alert ids
// derived from the two heads make a repeated finding a no-op.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db, Queryable } from './db/adapter.js';
import { monthOf, type Partitions } from './db/partitions.js';

export const CHAIN_ALERT_KIND = 'ledger-chain';
export const CHAIN_CODES = { backwards: 'LEDGER_CHAIN_BACKWARDS', forked: 'LEDGER_CHAIN_FORKED', truncated: 'LEDGER_CHAIN_TRUNCATED' } as const;
/** Stats rows read per run at most; the rest on the next run. */
const READ_LIMIT = 5000;
/**
 * Stats received this recently are left for the next run: received_at is when the ingest
 * transaction began, so a batch may become visible a moment after a later one. None
 * takes this long; the cursor then never passes a row still to come.
 */
export const DEFAULT_SETTLE_MS = 10_000;

/** A chain head as one stats message reported it. */
export interface HeadSeen {
  seq: number;
  hash: string;
  /** The gateway's time of the message (ISO). */
  at: string;
  /** When the office received it (ISO): the order the check goes by. */
  receivedAt: string;
}

export interface ChainBreak {
  site: string;
  checkpoint: string;
  kind: keyof typeof CHAIN_CODES;
  /** The head seen first… */
  seen: HeadSeen;
  /** …and the one that contradicts it. */
  got: HeadSeen;
  alertId: string;
  /** What makes a truncation one incident (the start it left, or the published row gone): later stats repeating it raise nothing more. */
  incident?: string;
}

export interface ChainCheckOptions {
  db: Db;
  partitions: Partitions;
  logger: Logger;
  now?: () => number;
  /** After an alert committed (the console's live refresh). */
  onAlert?: () => void;
  /** Default DEFAULT_SETTLE_MS; tests 0. */
  settleMs?: number;
}

// Type aliases, not interfaces: assignable to the adapter's Row.
type StatsHead = {
  site: string;
  checkpoint: string;
  seq: number;
  hash: string;
  at: Date;
  received_at: Date;
};

type Head = Omit<StatsHead, 'site' | 'checkpoint'>;
/** What the gateway's stats say of its chain besides the head (store schema 11; gateway/telemetry/chain-status.ts). */
type ChainExtra = {
  start: number | null;
  cut: { seq: number; fromSeq: number; toSeq: number } | null;
  prev: { seq: number; hash: string | null } | null;
};
/** The last row read, its times as text: a JS Date would drop the microseconds of received_at. */
type Cursor = { received_at: string; site: string; checkpoint: string; at: string };

export class ChainCheck {
  readonly #o: ChainCheckOptions;

  constructor(options: ChainCheckOptions) {
    this.#o = options;
  }

  /** Checks the stats received since the last run; returns the breaks newly alerted. */
  async runOnce(): Promise<ChainBreak[]> {
    const now = (this.#o.now ?? Date.now)();
    await this.#o.partitions.ensure([monthOf(now)]); // the alert goes into this month's partition
    const breaks = await this.#o.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(727400012)');
      // The cursor: the last row read, in the order rows are read.
      const [c] = await tx.query<Cursor>('SELECT received_at::text AS received_at, site, checkpoint, at::text AS at FROM chain_check_state');
      const cursor = c ?? { received_at: '-infinity', site: '', checkpoint: '', at: '-infinity' };
      const rows = await tx.query<StatsHead & ChainExtra & { cursor: Cursor }>(
        `SELECT site, checkpoint, (payload->'chain'->>'seq')::bigint AS seq, payload->'chain'->>'hash' AS hash, at, received_at,
                (payload->'chain'->>'start')::bigint AS start, payload->'chain'->'cut' AS cut, payload->'chain'->'prev' AS prev,
                json_build_object('received_at', received_at::text, 'site', site, 'checkpoint', checkpoint, 'at', at::text) AS cursor
           FROM stats
          WHERE received_at >= $1::timestamptz AND (received_at, site, checkpoint, at) > ($1::timestamptz, $2, $3, $4::timestamptz)
            AND received_at <= now() - $5 * interval '1 millisecond' AND payload ? 'chain'
          ORDER BY received_at, site, checkpoint, at LIMIT ${READ_LIMIT}`,
        [cursor.received_at, cursor.site, cursor.checkpoint, cursor.at, this.#o.settleMs ?? DEFAULT_SETTLE_MS],
      );
      if (rows.length === 0) return [];
      const heads = new Map<string, Head>(
        (await tx.query<StatsHead>('SELECT site, checkpoint, seq, hash, at, received_at FROM chain_heads')).map((h) => [key(h), h]),
      );
      const found: Omit<ChainBreak, 'alertId'>[] = [];
      const moved = new Set<string>();
      for (const r of rows) {
        const k = key(r);
        const h = heads.get(k);
        const contradiction = h === undefined ? null : compare(h, r);
        if (contradiction !== null) found.push({ site: r.site, checkpoint: r.checkpoint, ...contradiction });
        // A head gone back is already the finding; its lost rows are the same incident.
        const cut = contradiction === null ? truncation(h, r) : null;
        if (cut !== null) found.push({ site: r.site, checkpoint: r.checkpoint, kind: 'truncated', seen: cut.seen, got: seen(r), incident: cut.incident });
        // The row the gateway published last, as its chain holds it now: one more head to check for a fork.
        if (r.prev !== null && r.prev.hash !== null && r.prev.seq !== r.seq) {
          const [other] = await tx.query<Head>(
            `SELECT (payload->'chain'->>'seq')::bigint AS seq, payload->'chain'->>'hash' AS hash, at, received_at FROM stats
              WHERE site = $1 AND checkpoint = $2 AND payload ? 'chain' AND (payload->'chain'->>'seq')::bigint = $3
                AND payload->'chain'->>'hash' <> $4 ORDER BY received_at LIMIT 1`,
            [r.site, r.checkpoint, r.prev.seq, r.prev.hash],
          );
          if (other !== undefined) found.push({ site: r.site, checkpoint: r.checkpoint, kind: 'forked', seen: seen(other), got: { ...seen(r), seq: r.prev.seq, hash: r.prev.hash } });
        }
        if (h === undefined || later(r, h)) {
          heads.set(k, r);
          moved.add(k);
        }
        // Two hashes for one seq, however far apart: the stats of that seq, by an index on it.
        if (h === undefined || h.seq !== r.seq) {
          const [other] = await tx.query<Head>(
            `SELECT (payload->'chain'->>'seq')::bigint AS seq, payload->'chain'->>'hash' AS hash, at, received_at FROM stats
              WHERE site = $1 AND checkpoint = $2 AND payload ? 'chain' AND (payload->'chain'->>'seq')::bigint = $3
                AND payload->'chain'->>'hash' <> $4 ORDER BY received_at LIMIT 1`,
            [r.site, r.checkpoint, r.seq, r.hash],
          );
          if (other !== undefined) found.push({ site: r.site, checkpoint: r.checkpoint, kind: 'forked', ...ordered(other, r) });
        }
      }
      for (const k of moved) {
        const h = heads.get(k)!;
        const [site, checkpoint] = JSON.parse(k) as [string, string];
        await tx.query(
          `INSERT INTO chain_heads (site, checkpoint, seq, hash, at, received_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (site, checkpoint) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, at = EXCLUDED.at, received_at = EXCLUDED.received_at`,
          [site, checkpoint, h.seq, h.hash, h.at, h.received_at],
        );
      }
      const last = rows[rows.length - 1]!.cursor;
      await tx.query(
        `INSERT INTO chain_check_state (id, received_at, site, checkpoint, at) VALUES (true, $1::timestamptz, $2, $3, $4::timestamptz)
         ON CONFLICT (id) DO UPDATE SET received_at = EXCLUDED.received_at, site = EXCLUDED.site, checkpoint = EXCLUDED.checkpoint, at = EXCLUDED.at`,
        [last.received_at, last.site, last.checkpoint, last.at],
      );
      const raised: ChainBreak[] = [];
      for (const b of found) {
        const alertId = await raiseAlert(tx, b, now);
        if (alertId !== null) raised.push({ ...b, alertId });
      }
      return raised;
    });
    for (const b of breaks) {
      this.#o.logger.error(
        { site: b.site, checkpoint: b.checkpoint, kind: b.kind, seen: b.seen, got: b.got, alertId: b.alertId },
        `ledger chain ${b.kind === 'backwards' ? 'went back' : 'forked'} at a checkpoint: its ledger was cut or rebuilt`,
      );
    }
    if (breaks.length > 0) this.#o.onAlert?.();
    return breaks;
  }
}

function key(h: { site: string; checkpoint: string }): string {
  return JSON.stringify([h.site, h.checkpoint]);
}

/** Received later (the office's clock), the gateway's time breaking a tie within one batch. */
function later(a: Head, b: Head): boolean {
  const d = a.received_at.getTime() - b.received_at.getTime();
  return d !== 0 ? d > 0 : a.at.getTime() > b.at.getTime();
}

function seen(h: Head): HeadSeen {
  return { seq: h.seq, hash: h.hash, at: h.at.toISOString(), receivedAt: h.received_at.toISOString() };
}

/** The two heads in the order they were received. */
function ordered(a: Head, b: Head): { seen: HeadSeen; got: HeadSeen } {
  return later(b, a) ? { seen: seen(a), got: seen(b) } : { seen: seen(b), got: seen(a) };
}

/** What a stats head says against the last one kept: nothing, a head gone back, or a fork. */
function compare(h: Head, r: Head): Pick<ChainBreak, 'kind' | 'seen' | 'got'> | null {
  if (r.seq === h.seq) return r.hash === h.hash ? null : { kind: 'forked', ...ordered(h, r) };
  const { seen: first, got: second } = ordered(h, r);
  return second.seq < first.seq ? { kind: 'backwards', seen: first, got: second } : null;
}

/**
 * A chain cut without a checkpoint saying so: it starts after 1 and no retention cut covers
 * the start, or the row the gateway published last — the head the office stored — is gone
 * and no cut covers it. A retention cut only takes old days behind a checkpoint row, so
 * neither happens to an honest gateway.
 */
function truncation(h: Head | undefined, r: Head & ChainExtra): { seen: HeadSeen; incident: string } | null {
  const covered = (seq: number): boolean => r.cut !== null && r.cut.fromSeq <= seq && seq <= r.cut.toSeq + 1;
  if (r.start !== null && r.start > 1 && !covered(r.start)) return { seen: h === undefined ? seen(r) : seen(h), incident: `start ${r.start}` };
  if (h !== undefined && r.prev !== null && r.prev.hash === null && r.prev.seq === h.seq && !(r.cut !== null && r.cut.toSeq >= h.seq)) return { seen: seen(h), incident: `gone ${h.seq}:${h.hash}` };
  return null;
}

/** Stores the office-side alert once (its id comes from the two heads); the id, or null when already there. */
async function raiseAlert(tx: Queryable, b: Omit<ChainBreak, 'alertId'>, now: number): Promise<string | null> {
  const id = uuidOf(`${CHAIN_ALERT_KIND}|${b.site}|${b.checkpoint}|${b.kind}|${b.incident ?? `${b.seen.seq}:${b.seen.hash}|${b.got.seq}:${b.got.hash}`}`);
  const at = new Date(now).toISOString();
  const short = (h: HeadSeen): string => `seq ${h.seq} (${h.hash.slice(0, 12)}…, ${h.at})`;
  const detail =
    b.kind === 'backwards'
      ? `账本哈希链回退：${short(b.seen)} → ${short(b.got)}；检查站电脑上的账本被截断或换成旧副本 / ` +
        `ledger chain went back from ${short(b.seen)} to ${short(b.got)}: the ledger on the checkpoint PC was cut or replaced by an older copy`
      : b.kind === 'truncated'
        ? `账本哈希链被截断：${short(b.got)} 的账本缺少行，且没有保留期检查点说明 / ` +
          `ledger chain cut without a checkpoint: at ${short(b.got)} rows are gone (after ${short(b.seen)}) that no retention checkpoint states; the ledger on the checkpoint PC was cut by hand`
        : `账本哈希链分叉：同一序号 ${b.got.seq} 出现两个哈希；账本被重建 / ` +
          `ledger chain forked: seq ${b.got.seq} came with hash ${b.seen.hash.slice(0, 12)}… and later ${b.got.hash.slice(0, 12)}…: the ledger was rebuilt`;
  const code = CHAIN_CODES[b.kind];
  const fresh = await tx.query('INSERT INTO alert_keys (id, at, content_hash) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id', [id, at, 'office']);
  if (fresh.length === 0) return null;
  const body = { v: 1, id, at, site: b.site, checkpoint: b.checkpoint, lane: null, kind: CHAIN_ALERT_KIND, severity: 'critical', code, eventId: null, detail, historical: false, chain: { seen: b.seen, got: b.got } };
  await tx.query(
    `INSERT INTO alerts (id, site, checkpoint, at, lane, kind, severity, code, event_id, detail, payload)
     VALUES ($1, $2, $3, $4, NULL, $5, 'critical', $6, NULL, $7, $8)`,
    [id, b.site, b.checkpoint, at, CHAIN_ALERT_KIND, code, detail, JSON.stringify(body)],
  );
  return id;
}

/** A UUID (version 8, RFC 9562: custom) from the SHA-256 of `name`: the same break, the same id. */
function uuidOf(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
