// What …/stats says of the ledger's hash chain (docs/mqtt.md "stats", docs/central.md
// "Ledger chain check"): the head, where the chain starts now and the retention checkpoint
// that explains a start after 1, and `prev` — the hash the chain holds now at the seq this
// gateway published last time. The office compares `prev` with the head it stored: a
// ledger cut back by hand and grown again past the old head no longer holds that row (or
// holds another), while a retention cut never touches rows that recent.
import type { GatewayKey, SqliteStore } from '../store/index.js';

export interface ChainStatus {
  seq: number;
  /** SHA-256, hex. */
  hash: string;
  /** The chain's first seq now: 1 until retention cut it. */
  start?: number;
  /** The checkpoint row the chain starts after (its seq, and the chain seqs it says it cut); absent when it starts at 1. */
  cut?: { seq: number; fromSeq: number; toSeq: number };
  /** The chain row at the seq published last (hash null when that row is gone). */
  prev?: { seq: number; hash: string | null };
  /** The gateway key that signs the checkpoints (the office may pin it). */
  key?: { id: string; publicKey: string };
}

const PUBLISHED = 'chain.published';

export class ChainStatusSource {
  readonly #store: Pick<SqliteStore, 'chainHead' | 'retention' | 'getMeta' | 'setMeta'>;
  readonly #key: GatewayKey | undefined;
  #published: number | null;

  constructor(store: Pick<SqliteStore, 'chainHead' | 'retention' | 'getMeta' | 'setMeta'>, key?: GatewayKey) {
    this.#store = store;
    this.#key = key;
    // Kept across restarts: a ledger cut back while the gateway was stopped shows at its first stats.
    const saved = Number(store.getMeta(PUBLISHED));
    this.#published = Number.isSafeInteger(saved) && saved > 0 ? saved : null;
  }

  /** The status for the stats message about to go out; remembers its head as the one published. */
  next(): ChainStatus | null {
    const head = this.#store.chainHead();
    if (head === null) return null;
    const room = this.#store.retention;
    const status: ChainStatus = { seq: head.seq, hash: head.hash };
    const start = room?.chainStart();
    if (start) {
      status.start = start.start;
      if (start.cut !== null) status.cut = start.cut;
    }
    if (room && this.#published !== null) status.prev = { seq: this.#published, hash: room.chainHashAt(this.#published) };
    if (this.#key) status.key = { id: this.#key.id, publicKey: this.#key.publicKey };
    if (this.#published !== head.seq) {
      this.#published = head.seq;
      this.#store.setMeta(PUBLISHED, String(head.seq));
    }
    return status;
  }
}
