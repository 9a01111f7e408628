// The outbox: messages for the central office, committed with the row they describe and
// drained oldest first by the MQTT link, which marks each delivered on its PUBACK.
import type Database from 'better-sqlite3';
import { invalidQuery, withoutOwnFsync } from './sql.js';
import type { OutboxMessage, OutboxRow } from './types.js';
import { checkOutboxMessage } from './validate.js';

export const MAX_OUTBOX_BATCH = 10_000;

/** id, topic, payload, qos, created_at */
type OutboxDbRow = [number, string, string, 0 | 1, number];


export class OutboxRoom {
  readonly #now: () => number;
  readonly #insert: Database.Statement<[string, string, number, number]>;
  readonly #pending: Database.Statement<[number, number], OutboxDbRow>;
  readonly #markDelivered: Database.Statement<[number, number]>;
  readonly #depth: Database.Statement<[], { n: number }>;
  readonly #prune: Database.Statement<[number]>;
  readonly #markMany: (ids: readonly number[]) => void;

  constructor(db: Database.Database, now: () => number) {
    this.#now = now;
    this.#insert = db.prepare('INSERT INTO outbox (topic, payload, qos, created_at) VALUES (?, ?, ?, ?)');
    // Rows as arrays, made into objects here: about a third cheaper than better-sqlite3's
    // row objects, on the drain's path (one row per message).
    this.#pending = db
      .prepare<[number, number], OutboxDbRow>('SELECT id, topic, payload, qos, created_at FROM outbox WHERE delivered_at IS NULL AND id > ? ORDER BY id LIMIT ?')
      .raw(true);
    this.#markDelivered = db.prepare('UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL');
    this.#depth = db.prepare('SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL');
    this.#prune = db.prepare('DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < ?');
    const markRange = db.prepare<[number, number, number]>('UPDATE outbox SET delivered_at = ? WHERE id BETWEEN ? AND ? AND delivered_at IS NULL');
    const markMany = db.transaction((ids: readonly number[]) => {
      const at = this.#now();
      // One statement per run of consecutive ids instead of one per id. A run holds
      // acknowledged ids only, so nothing else is marked. A broker acknowledges QoS 1 in
      // publish order, so the ids come sorted (checked: sorting 2048 costs more).
      const sorted = isAscending(ids) ? ids : [...ids].sort((a, b) => a - b);
      let lo = sorted[0]!;
      let hi = lo;
      for (let i = 1; i < sorted.length; i++) {
        const id = sorted[i]!;
        if (id === hi || id === hi + 1) {
          hi = id;
          continue;
        }
        markRange.run(at, lo, hi);
        lo = id;
        hi = id;
      }
      markRange.run(at, lo, hi);
    });
    // A power cut may lose the marks, never a row: the rows are sent again (duplicates,
    // which the office drops by event id). The drain thus never holds the event loop in
    // an fsync per chunk of PUBACKs.
    this.#markMany = (ids) => withoutOwnFsync(db, () => markMany(ids));
  }

  /**
   * Validates and queues `msg` in the caller's transaction (`owner` names the row it
   * belongs to, for the error); returns its id.
   */
  insert(msg: OutboxMessage, owner: string): number {
    checkOutboxMessage(msg, owner);
    return this.#write(msg, this.#now());
  }

  /** A message that belongs to no row; `createdAt` as for SqliteStore.outboxAppend. */
  append(msg: OutboxMessage, createdAt?: number): number {
    checkOutboxMessage(msg, '(none)');
    if (createdAt !== undefined && !(Number.isSafeInteger(createdAt) && createdAt >= 0)) {
      throw invalidQuery('outboxAppend createdAt', createdAt, 'epoch milliseconds');
    }
    return this.#write(msg, createdAt ?? this.#now());
  }

  #write(msg: OutboxMessage, createdAt: number): number {
    return Number(this.#insert.run(msg.topic, msg.payload, msg.qos, createdAt).lastInsertRowid);
  }

  pending(limit: number, afterId = 0): OutboxRow[] {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_OUTBOX_BATCH) {
      throw invalidQuery('outboxPending limit', limit, `an integer from 1 to ${MAX_OUTBOX_BATCH}`);
    }
    if (!Number.isSafeInteger(afterId) || afterId < 0) {
      throw invalidQuery('outboxPending afterId', afterId, 'an outbox id (integer ≥ 0)');
    }
    const rows = this.#pending.all(afterId, limit);
    const out: OutboxRow[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const [id, topic, payload, qos, createdAt] = rows[i]!;
      out[i] = { id, topic, payload, qos, createdAt };
    }
    return out;
  }

  markDelivered(id: number): void {
    // Idempotent: a drain that re-sends after a reconnect may confirm the same id twice.
    this.#markDelivered.run(this.#now(), id);
  }

  markDeliveredMany(ids: readonly number[]): void {
    if (ids.length > 0) this.#markMany(ids);
  }

  depth(): number {
    return this.#depth.get()?.n ?? 0;
  }

  prune(deliveredBefore: number): number {
    if (!Number.isFinite(deliveredBefore)) throw invalidQuery('outboxPrune deliveredBefore', deliveredBefore, 'epoch milliseconds');
    return this.#prune.run(deliveredBefore).changes;
  }
}

function isAscending(ids: readonly number[]): boolean {
  for (let i = 1; i < ids.length; i++) if (ids[i]! < ids[i - 1]!) return false;
  return true;
}
