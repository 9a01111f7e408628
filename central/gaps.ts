// Gap repair, the office's side (docs/central.md, "Gap repair"): per checkpoint, find the
// first hole in the events' seq beyond a stored watermark, and when it stays open past
// `afterMs`, publish a signed `resend` request to that one gateway — at most one per
// checkpoint per `retryMs`, claimed in the database, so several instances never double up.
import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import type { UpdateEnvelope } from '../gateway/updates/envelope.js';
import { signUpdate } from '../gateway/updates/sign.js';
import type { Db } from './db/adapter.js';
import type { CentralMetrics } from './metrics.js';

/** The gateway refuses wider requests (gap contract: toSeq - fromSeq < 10000). */
export const MAX_RESEND_SPAN = 10_000;
/** Seqs read per checkpoint per run; a longer tail is read on the next runs. */
const SCAN_LIMIT = 50_000;

export interface Gap {
  /** Every seq up to here is present. */
  contiguous: number;
  /** The hole to ask for, or null when none is visible. */
  gap: { from: number; to: number } | null;
}

/**
 * From the watermark and the seqs above it (ascending), the new watermark and the first
 * missing span, widened over later holes up to MAX_RESEND_SPAN (one request fills them;
 * rows already here come back as duplicates, which cost nothing). `reported` is the
 * highest seq the gateway said it has (stats, resend answers): seqs after the last one
 * here up to it are missing too (a tail gap). Pure.
 */
export function findGap(contiguous: number, seqsAbove: readonly number[], reported = 0): Gap {
  let w = contiguous;
  let i = 0;
  for (; i < seqsAbove.length; i++) {
    const s = seqsAbove[i]!;
    if (s <= w) continue;
    if (s !== w + 1) break;
    w = s;
  }
  if (i >= seqsAbove.length) {
    // A tail gap: the gateway reported seqs beyond the last one here.
    return { contiguous: w, gap: reported > w ? { from: w + 1, to: Math.min(reported, w + MAX_RESEND_SPAN) } : null };
  }
  const from = w + 1;
  const cap = from + MAX_RESEND_SPAN - 1;
  let to = seqsAbove[i]! - 1;
  let prev = seqsAbove[i]!;
  for (i += 1; i < seqsAbove.length; i++) {
    const s = seqsAbove[i]!;
    if (s > prev + 1) {
      if (prev + 1 > cap) break;
      to = s - 1;
    }
    prev = s;
  }
  if (i >= seqsAbove.length && reported > prev && prev + 1 <= cap) to = reported;
  return { contiguous: w, gap: { from, to: Math.min(to, cap) } };
}

export interface ResendEnvelope extends Omit<UpdateEnvelope, 'kind' | 'data'> {
  kind: 'resend';
  data: { fromSeq: number; toSeq: number };
}

export interface GapDetectorOptions {
  db: Db;
  logger: Logger;
  metrics: CentralMetrics;
  prefix: string;
  afterMs: number;
  retryMs: number;
  /** Who asked (the instance's MQTT client id), recorded with each request. */
  instance: string;
  /** The office's private Ed25519 JWK; null → gaps are logged, never requested. */
  signingKey: JWK | null;
  publish: (topic: string, payload: string) => Promise<void>;
  now?: () => number;
}

type WatermarkRow = {
  site: string;
  checkpoint: string;
  contiguous: number;
  gap_from: number | null;
  gap_to: number | null;
  gap_since: Date | string | null;
  reported_seq: number;
};

export interface RequestedResend {
  site: string;
  checkpoint: string;
  transaction: string;
  envelope: ResendEnvelope;
  token: string;
}

export class GapDetector {
  readonly #o: GapDetectorOptions;
  readonly #now: () => number;
  #lastVersion = 0;
  #running: Promise<RequestedResend[]> | null = null;
  #warnedNoKey = new Set<string>();

  constructor(options: GapDetectorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** One pass over every checkpoint; overlapping calls share the pass. */
  runOnce(): Promise<RequestedResend[]> {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #run(): Promise<RequestedResend[]> {
    const { db } = this.#o;
    const rows = await db.query<WatermarkRow>('SELECT site, checkpoint, contiguous, gap_from, gap_to, gap_since, reported_seq FROM seq_watermarks ORDER BY site, checkpoint');
    const requested: RequestedResend[] = [];
    let open = 0;
    for (const row of rows) {
      const seqs = await db.query<{ seq: number }>(
        'SELECT seq FROM event_keys WHERE site = $1 AND checkpoint = $2 AND seq > $3 ORDER BY seq LIMIT $4',
        [row.site, row.checkpoint, row.contiguous, SCAN_LIMIT],
      );
      // A scan cut short by SCAN_LIMIT does not end at the last seq here: no tail yet.
      const reported = seqs.length < SCAN_LIMIT ? Number(row.reported_seq) : 0;
      const { contiguous, gap } = findGap(Number(row.contiguous), seqs.map((r) => Number(r.seq)), reported);
      const now = this.#now();
      const sameGap = gap !== null && row.gap_from !== null && Number(row.gap_from) === gap.from;
      const since = gap === null ? null : sameGap && row.gap_since !== null ? new Date(row.gap_since).getTime() : now;
      if (contiguous !== Number(row.contiguous) || !sameGap || (gap && Number(row.gap_to) !== gap.to)) {
        // GREATEST: another instance may have moved it further meanwhile.
        await db.query(
          `UPDATE seq_watermarks SET contiguous = GREATEST(contiguous, $3), gap_from = $4, gap_to = $5, gap_since = $6
            WHERE site = $1 AND checkpoint = $2`,
          [row.site, row.checkpoint, contiguous, gap?.from ?? null, gap?.to ?? null, since === null ? null : new Date(since).toISOString()],
        );
      }
      if (gap === null || since === null) continue;
      open += 1;
      if (now - since < this.#o.afterMs) continue;
      if (await this.#skipAbsent(row.site, row.checkpoint, gap, now)) continue;
      const r = await this.#request(row.site, row.checkpoint, gap, now);
      if (r) requested.push(r);
    }
    this.#o.metrics.gapsOpen.set(open);
    return requested;
  }

  /**
   * The gateway applied a request covering the gap's start at least afterMs ago, and the
   * rows are still missing: they are not in its ledger (the contract: rows not in the
   * ledger are simply absent). Asking again would never end, so the watermark moves past
   * them; logged at warn and counted.
   */
  async #skipAbsent(site: string, checkpoint: string, gap: { from: number; to: number }, now: number): Promise<boolean> {
    const { db, logger } = this.#o;
    const answered = await db.query<{ to_seq: number; transaction: string }>(
      `SELECT to_seq, transaction FROM resend_requests
        WHERE site = $1 AND checkpoint = $2 AND status = 'applied' AND answered_at <= $3 AND from_seq <= $4 AND to_seq >= $4
        ORDER BY answered_at DESC LIMIT 1`,
      [site, checkpoint, new Date(now - this.#o.afterMs).toISOString(), gap.from],
    );
    const a = answered[0];
    if (!a) return false;
    const upTo = Math.min(gap.to, Number(a.to_seq));
    await db.query(
      `UPDATE seq_watermarks SET contiguous = GREATEST(contiguous, $3), gap_from = NULL, gap_to = NULL, gap_since = NULL
        WHERE site = $1 AND checkpoint = $2`,
      [site, checkpoint, upTo],
    );
    this.#o.metrics.seqSkipped.inc(upTo - gap.from + 1);
    logger.warn({ site, checkpoint, fromSeq: gap.from, toSeq: upTo, transaction: a.transaction }, 'seq rows still missing after the gateway answered a resend: not in its ledger, skipped');
    return true;
  }

  async #request(site: string, checkpoint: string, gap: { from: number; to: number }, now: number): Promise<RequestedResend | null> {
    const { db, logger } = this.#o;
    const key = this.#o.signingKey;
    if (key === null) {
      const k = `${site}/${checkpoint}/${gap.from}`;
      if (!this.#warnedNoKey.has(k)) logger.warn({ site, checkpoint, ...gap }, 'seq gap open, but no updates.signingKeyFile: not asking for a resend');
      this.#warnedNoKey.add(k);
      return null;
    }
    // The claim: one instance, once per retryMs, per checkpoint.
    const claimed = await db.query(
      `UPDATE seq_watermarks SET last_request_at = $3
        WHERE site = $1 AND checkpoint = $2 AND (last_request_at IS NULL OR last_request_at <= $4)
        RETURNING 1`,
      [site, checkpoint, new Date(now).toISOString(), new Date(now - this.#o.retryMs).toISOString()],
    );
    if (claimed.length === 0) return null;
    // Date.now() as the version (gap contract); strictly rising within this instance.
    const version = Math.max(now, this.#lastVersion + 1);
    this.#lastVersion = version;
    const transaction = `resend-${randomUUID()}`;
    const envelope: ResendEnvelope = {
      kind: 'resend',
      version,
      site,
      checkpoint,
      transaction,
      issuedAt: new Date(now).toISOString(),
      data: { fromSeq: gap.from, toSeq: gap.to },
    };
    // sign.ts signs any envelope; the gateway's envelope type lists the kinds it applies.
    const token = await signUpdate(envelope as unknown as UpdateEnvelope, key);
    await db.query(
      `INSERT INTO resend_requests (transaction, site, checkpoint, from_seq, to_seq, version, requested_at, instance)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [transaction, site, checkpoint, gap.from, gap.to, version, new Date(now).toISOString(), this.#o.instance],
    );
    try {
      await this.#o.publish(`${this.#o.prefix}/${site}/${checkpoint}/cmd/resend`, token);
    } catch (err) {
      // Not sent: release the claim so the next pass asks again.
      await db.query(`UPDATE resend_requests SET status = 'unsent' WHERE transaction = $1`, [transaction]);
      await db.query('UPDATE seq_watermarks SET last_request_at = NULL WHERE site = $1 AND checkpoint = $2', [site, checkpoint]);
      logger.warn({ err: (err as Error).message, site, checkpoint, ...gap }, 'resend request not published; will retry');
      return null;
    }
    this.#o.metrics.resendsRequested.inc();
    logger.info({ site, checkpoint, fromSeq: gap.from, toSeq: gap.to, transaction, version }, 'seq gap open too long: resend requested');
    return { site, checkpoint, transaction, envelope, token };
  }
}
