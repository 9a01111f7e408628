// Live refresh for the console: the ingest path's onCommit tells this feed what kinds of
// rows a batch committed; subscribers (the SSE route) get one small "changed" notice of
// the kinds seen, at most one per `minGapMs` (default 1 s), so a busy mine never floods a
// page. The page re-fetches on a notice; no data travels over the stream.
import type { Classified } from '../classify.js';

/** updates: a gateway answered a pushed update (update_responses), or the console pushed one. */
export type ChangeKind = 'events' | 'alerts' | 'status' | 'updates' | 'tracing';

export class ChangeFeed {
  #subs = new Set<(kinds: ChangeKind[]) => void>();
  #pending = new Set<ChangeKind>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSent = -Infinity;

  constructor(private readonly o: { minGapMs?: number; now?: () => number } = {}) {}

  /** For Ingest's onCommit: notes the kinds of the committed items. */
  committed(items: readonly Classified[]): void {
    const kinds: ChangeKind[] = [];
    for (const it of items) {
      if (it.type === 'event') kinds.push('events');
      else if (it.type === 'alert') kinds.push('alerts');
      else if (it.type === 'status' || it.type === 'stats') kinds.push('status');
      else if (it.type === 'response') kinds.push('updates');
    }
    if (kinds.length > 0) this.changed(kinds);
  }

  changed(kinds: readonly ChangeKind[]): void {
    for (const k of kinds) this.#pending.add(k);
    if (this.#timer !== undefined || this.#subs.size === 0) {
      if (this.#subs.size === 0) this.#pending.clear();
      return;
    }
    const gap = this.o.minGapMs ?? 1000;
    const now = (this.o.now ?? Date.now)();
    const wait = Math.max(0, this.#lastSent + gap - now);
    this.#timer = setTimeout(() => this.#flush(), wait);
  }

  #flush(): void {
    this.#timer = undefined;
    this.#lastSent = (this.o.now ?? Date.now)();
    const kinds = [...this.#pending].sort() as ChangeKind[];
    this.#pending.clear();
    if (kinds.length === 0) return;
    for (const s of this.#subs) s(kinds);
  }

  subscribe(fn: (kinds: ChangeKind[]) => void): () => void {
    this.#subs.add(fn);
    return () => {
      this.#subs.delete(fn);
    };
  }

  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#subs.clear();
  }
}
