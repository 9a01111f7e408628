// The batcher: collects received messages, commits up to batchMax of them (or whatever
// arrived within batchMs) in one transaction, and only then acknowledges each one. A
// failed commit acknowledges nothing and is retried with backoff, so the broker keeps
// every message until its row exists: at-least-once delivery, exactly-once effect.
import type { Logger } from 'pino';
import { REJECTED_PAYLOAD_MAX, type Classified } from './classify.js';
import type { Db } from './db/adapter.js';
import type { Partitions } from './db/partitions.js';
import type { CentralMetrics } from './metrics.js';
import { Watermarked, monthsOf, writeBatch, type WriteResult } from './writer.js';

export interface Pending {
  item: Classified;
  /** Sends the PUBACK; called only after the item's transaction committed. */
  ack: () => void;
}

export interface IngestOptions {
  db: Db;
  partitions: Partitions;
  metrics: CentralMetrics;
  logger: Logger;
  batchMax: number;
  batchMs: number;
  /** Batches written at once (default 2). */
  concurrency?: number;
  now?: () => number;
  /** After each commit (tests, gap detector wake-up). */
  onCommit?: (result: WriteResult, items: readonly Classified[]) => void;
  onDbState?: (ok: boolean, detail?: string) => void;
}

/** A batch taken from the queue: committed (with its result) or still being written. */
interface Taken {
  batch: Pending[];
  result: WriteResult | null;
}

export class Ingest {
  readonly #o: IngestOptions;
  readonly #now: () => number;
  readonly #concurrency: number;
  #queue: Pending[] = [];
  /** Batches taken from the queue and not yet acknowledged, in the order they were taken. */
  #taken: Taken[] = [];
  #running = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #partitionsReady: Promise<void> = Promise.resolve();
  #retryMs = 0;
  #stopped = false;
  #lastCommitAt: number | null = null;
  readonly #watermarked = new Watermarked();

  constructor(options: IngestOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
  }

  get backlog(): number {
    return this.#queue.length + this.#taken.reduce((n, t) => n + t.batch.length, 0);
  }

  get lastCommitAt(): number | null {
    return this.#lastCommitAt;
  }

  push(p: Pending): void {
    if (this.#stopped) return; // not acked: the broker redelivers to the next session
    this.#queue.push(p);
    this.#o.metrics.backlog.set(this.backlog);
    this.#schedule();
  }

  // Up to `concurrency` batches are written at once (one connection each), so the
  // database works on one while the next is received and checked; acknowledgements still
  // go out in the order the messages arrived (MQTT 3.1.1 §4.6), a batch's only after
  // every batch taken before it has committed.
  #schedule(): void {
    if (this.#timer || this.#stopped || this.#queue.length === 0 || this.#running.size >= this.#concurrency) return;
    const full = this.#queue.length >= this.#o.batchMax;
    const wait = this.#retryMs > 0 ? this.#retryMs : full ? 0 : this.#o.batchMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#start();
      this.#schedule();
    }, wait);
  }

  #start(): void {
    const batch = this.#queue.splice(0, this.#o.batchMax);
    if (batch.length === 0) return;
    const taken: Taken = { batch, result: null };
    this.#taken.push(taken);
    const run = this.#commitUntilDone(taken).finally(() => {
      this.#running.delete(run);
      this.#schedule();
    });
    this.#running.add(run);
  }

  /** Commits a taken batch, retrying with backoff while the database fails; gives up only on stop. */
  async #commitUntilDone(taken: Taken): Promise<void> {
    for (;;) {
      const result = await this.#commit(taken.batch);
      if (result) {
        taken.result = result;
        this.#acknowledgeInOrder();
        return;
      }
      if (this.#stopped) return; // not acknowledged: the broker keeps them for the next session
      await new Promise((r) => setTimeout(r, this.#retryMs));
    }
  }

  #acknowledgeInOrder(): void {
    for (let t = this.#taken[0]; t?.result; t = this.#taken[0]) {
      this.#taken.shift();
      const { batch, result } = t;
      // Committed: now, and only now, the broker may forget these messages.
      for (const p of batch) p.ack();
      this.#o.onCommit?.(result, batch.map((p) => p.item));
    }
    this.#o.metrics.backlog.set(this.backlog);
  }

  /** One transaction for the batch; null when it failed (nothing committed). */
  async #commit(batch: Pending[]): Promise<WriteResult | null> {
    const items = batch.map((p) => p.item);
    const started = performance.now();
    let result: WriteResult;
    try {
      // One batch at a time makes partitions: two CREATE … IF NOT EXISTS can still collide.
      const months = monthsOf(items, this.#now());
      this.#partitionsReady = this.#partitionsReady.catch(() => undefined).then(() => this.#o.partitions.ensure(months));
      await this.#partitionsReady;
      result = await this.#o.db.transaction((tx) => writeBatch(tx, items, this.#now(), this.#watermarked));
    } catch (err) {
      this.#o.metrics.commitFailures.inc();
      // A partition dropped by another instance's retention job must be made again.
      this.#o.partitions.forget();
      // A data error (SQLSTATE class 22/23: a value PostgreSQL refuses although the
      // schema allows it, such as a seq beyond bigint) would come back on every retry and
      // block the queue for ever: then the messages are committed one by one and the
      // culprit is set aside in rejected_messages. Any other error is retried as it is.
      let isolated: WriteResult | null = null;
      if (isDataError(err)) {
        this.#o.logger.warn({ err, batch: batch.length }, 'the database refused a value in this batch; committing its messages one by one');
        isolated = await this.#isolate(items).catch(() => null);
      }
      if (!isolated) {
        this.#retryMs = Math.min(10_000, Math.max(200, this.#retryMs * 2));
        this.#o.logger.error({ err, batch: batch.length, retryMs: this.#retryMs }, 'batch commit failed; nothing acknowledged, retrying');
        this.#o.onDbState?.(false, (err as Error).message);
        return null;
      }
      result = isolated;
    }
    this.#retryMs = 0;
    this.#watermarked.add(result.watermarked);
    this.#o.onDbState?.(true);
    const m = this.#o.metrics;
    m.commitSeconds.observe((performance.now() - started) / 1000);
    m.batchSize.observe(batch.length);
    for (const [type, n] of Object.entries(result.committed)) m.committed.inc({ type }, n);
    m.duplicates.inc(result.duplicates);
    const rejected = items.filter((i) => i.type === 'rejected');
    m.rejected.inc(rejected.length);
    for (const r of rejected) if (r.type === 'rejected') this.#o.logger.warn({ topic: r.topic, reason: r.reason, bytes: r.bytes }, 'message rejected (stored in rejected_messages)');
    for (const c of result.conflicts) {
      m.conflicts.inc();
      this.#o.logger.warn(c, `integrity conflict: ${c.kind} ${c.id} received with different content; kept aside, not applied`);
    }
    this.#lastCommitAt = this.#now();
    return result;
  }

  /** Each message in its own transaction; one the database refuses becomes a rejection. */
  async #isolate(items: Classified[]): Promise<WriteResult> {
    const total: WriteResult = { committed: {}, duplicates: 0, conflicts: [], watermarked: [] };
    for (const [i, item] of items.entries()) {
      let r: WriteResult;
      try {
        r = await this.#o.db.transaction((tx) => writeBatch(tx, [item], this.#now()));
      } catch (err) {
        if (!isDataError(err)) throw err; // not this message's fault: retry the batch later
        const raw = item.type === 'event' || item.type === 'alert' ? item.text : item.type === 'rejected' || item.type === 'ignored' ? '' : JSON.stringify(item.body);
        const rejected: Classified = {
          type: 'rejected',
          topic: item.topic,
          reason: `the database refused it: ${(err as Error).message}`,
          payload: raw.slice(0, REJECTED_PAYLOAD_MAX),
          bytes: Buffer.byteLength(raw),
        };
        items[i] = rejected;
        // If even this fails the database is not working after all: throws, retried.
        r = await this.#o.db.transaction((tx) => writeBatch(tx, [rejected], this.#now()));
      }
      for (const [type, n] of Object.entries(r.committed)) total.committed[type] = (total.committed[type] ?? 0) + n;
      total.duplicates += r.duplicates;
      total.conflicts.push(...r.conflicts);
      total.watermarked.push(...r.watermarked);
    }
    return total;
  }

  /** Waits for the batches being written, commits what is queued (one last try), then refuses new messages. */
  async stop(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#stopped = true;
    await Promise.all([...this.#running]);
    // Commit what is queued; on a failure the rest stays unacknowledged for the broker.
    while (this.#queue.length > 0 && this.#taken.length === 0) {
      const batch = this.#queue.splice(0, this.#o.batchMax);
      const taken: Taken = { batch, result: await this.#commit(batch) };
      if (!taken.result) break;
      this.#taken.push(taken);
      this.#acknowledgeInOrder();
    }
  }
}

/** SQLSTATE class 22 (data exception) or 23 (integrity constraint violation). */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}
