// Folding of rejected updates. Anyone who can publish on a cmd topic can send junk, and
// every rejection used to write a response and an alert (three rows, one fsync): 2 000
// junk messages gave 2 000 unacknowledged alerts and 4 000 outbox rows. Here repeats of
// one cause (same error code and topic kind) within a window become one alert with a
// count, followed by one summary alert per window while they keep coming, and the
// rejected responses are capped per cause and in total. Pure bookkeeping: no store, no
// timers (the service owns those), a clock passed in.

/** Defaults: one alert per cause per minute at most, plus its summary. */
export const DEFAULT_REJECTION_LIMITS: RejectionLimits = {
  windowMs: 60_000,
  responsesPerCause: 5,
  responsesPerWindow: 30,
};

export interface RejectionLimits {
  /** Repeats of one cause within this long after its alert are folded into a count. */
  windowMs: number;
  /** Rejected responses per cause and window; later ones are only counted. */
  responsesPerCause: number;
  /** Rejected responses per window over all causes (the window of the first one). */
  responsesPerWindow: number;
}

/** What to record for one rejection. */
export interface RejectionVerdict {
  /** Queue a rejected response for it. */
  respond: boolean;
  /** Raise an alert now (count 1): the first of its cause in a window. */
  alert: boolean;
}

/** A cause whose window ended with repeats that got no alert of their own. */
export interface RejectionSummary {
  cause: string;
  code: string;
  kind: string;
  /** Rejections folded into this summary. */
  count: number;
  /** Epoch ms of the first and last of them. */
  first: number;
  last: number;
}

interface Cause {
  code: string;
  kind: string;
  windowStart: number;
  responses: number;
  folded: number;
  first: number;
  last: number;
}

export class RejectionFolder {
  readonly #limits: RejectionLimits;
  readonly #causes = new Map<string, Cause>();
  #globalStart = -Infinity;
  #globalResponses = 0;

  constructor(limits: Partial<RejectionLimits> = {}) {
    this.#limits = { ...DEFAULT_REJECTION_LIMITS, ...limits };
  }

  get windowMs(): number {
    return this.#limits.windowMs;
  }

  /** One rejection of `code` for `kind` (already normalised to a bounded set) at `now`. */
  record(code: string, kind: string, now: number): RejectionVerdict {
    const key = `${code} ${kind}`;
    let cause = this.#causes.get(key);
    if (cause !== undefined && now - cause.windowStart >= this.#limits.windowMs && cause.folded === 0) {
      // A quiet window ended: the next one starts afresh, with an alert.
      this.#causes.delete(key);
      cause = undefined;
    }
    if (now - this.#globalStart >= this.#limits.windowMs) {
      this.#globalStart = now;
      this.#globalResponses = 0;
    }
    const respondGlobally = this.#globalResponses < this.#limits.responsesPerWindow;
    if (cause === undefined) {
      this.#causes.set(key, { code, kind, windowStart: now, responses: 1, folded: 0, first: now, last: now });
      if (respondGlobally) this.#globalResponses += 1;
      return { respond: respondGlobally, alert: true };
    }
    cause.folded += 1;
    if (cause.folded === 1) cause.first = now;
    cause.last = now;
    const respond = respondGlobally && cause.responses < this.#limits.responsesPerCause;
    if (respond) {
      cause.responses += 1;
      this.#globalResponses += 1;
    }
    return { respond, alert: false };
  }

  /**
   * Summaries due at `now` (or all pending ones with `all`, at shutdown). A cause that
   * had repeats starts a new window with its summary, so a flood that goes on gives one
   * summary per window; a cause without repeats is forgotten.
   */
  due(now: number, all = false): RejectionSummary[] {
    const out: RejectionSummary[] = [];
    for (const [key, c] of this.#causes) {
      if (!all && now - c.windowStart < this.#limits.windowMs) continue;
      if (c.folded === 0) {
        this.#causes.delete(key);
        continue;
      }
      out.push({ cause: key, code: c.code, kind: c.kind, count: c.folded, first: c.first, last: c.last });
      if (all) this.#causes.delete(key);
      else Object.assign(c, { windowStart: now, responses: 0, folded: 0 });
    }
    return out;
  }

  /** When the next window ends (epoch ms), or null when no cause is open. */
  nextDue(): number | null {
    let next: number | null = null;
    for (const c of this.#causes.values()) {
      const at = c.windowStart + this.#limits.windowMs;
      if (next === null || at < next) next = at;
    }
    return next;
  }
}
