// The batcher: collects received messages, commits up to batchMax of them (or whatever
// arrived within batchMs) in one transaction, and only then acknowledges each one. A
// failed commit acknowledges nothing and is retried with backoff, so the broker keeps
// every message until its row exists: at-least-once delivery, exactly-once effect.
import type { Logger } from 'pino';
import type { Classified } from './classify.js';
import type { Db } from './db/adapter.js';
import type { Partitions } from './db/partitions.js';
import type { CentralMetrics } from './metrics.js';
import { monthsOf, writeBatch, type WriteResult } from './writer.js';

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
  now?: () => number;
  /** After each commit (tests, gap detector wake-up). */
  onCommit?: (result: WriteResult, items: readonly Classified[]) => void;
  onDbState?: (ok: boolean, detail?: string) => void;
}

export class Ingest {
  readonly #o: IngestOptions;
  readonly #now: () => number;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #retryMs = 0;
  #stopped = false;
  #lastCommitAt: number | null = null;

  constructor(options: IngestOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get backlog(): number {
    return this.#queue.length;
  }

  get lastCommitAt(): number | null {
    return this.#lastCommitAt;
  }

  push(p: Pending): void {
    if (this.#stopped) return; // not acked: the broker redelivers to the next session
    this.#queue.push(p);
    this.#o.metrics.backlog.set(this.#queue.length);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#flushing || this.#timer) return;
    const full = this.#queue.length >= this.#o.batchMax;
    const wait = this.#retryMs > 0 ? this.#retryMs : full ? 0 : this.#o.batchMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = null;
        if (this.#queue.length > 0 && !this.#stopped) this.#schedule();
      });
    }, wait);
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.slice(0, this.#o.batchMax);
    if (batch.length === 0) return;
    const items = batch.map((p) => p.item);
    const started = performance.now();
    let result: WriteResult;
    try {
      await this.#o.partitions.ensure(monthsOf(items, this.#now()));
      result = await this.#o.db.transaction((tx) => writeBatch(tx, items, this.#now()));
    } catch (err) {
      this.#o.metrics.commitFailures.inc();
      this.#retryMs = Math.min(10_000, Math.max(200, this.#retryMs * 2));
      this.#o.logger.error({ err, batch: batch.length, retryMs: this.#retryMs }, 'batch commit failed; nothing acknowledged, retrying');
      this.#o.onDbState?.(false, (err as Error).message);
      return;
    }
    this.#retryMs = 0;
    this.#o.onDbState?.(true);
    this.#queue.splice(0, batch.length);
    const m = this.#o.metrics;
    m.commitSeconds.observe((performance.now() - started) / 1000);
    m.batchSize.observe(batch.length);
    m.backlog.set(this.#queue.length);
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
    // Committed: now, and only now, the broker may forget these messages.
    for (const p of batch) p.ack();
    this.#o.onCommit?.(result, items);
  }

  /** Commits what is queued (one last try), then refuses new messages. */
  async stop(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    await this.#flushing;
    if (this.#queue.length > 0 && this.#retryMs === 0) await this.#flush();
    this.#stopped = true;
  }
}
