// Periodic counters on …/stats: per lane admitted/refused/referred since the gateway
// started, plus the outbox depth and alerts not yet acknowledged. Sent directly (QoS 0,
// not through the outbox): a stale count is worth nothing, the ledger is the record.
import type { Logger } from 'pino';
import { Interval } from '../interval.js';
import type { ChainStatus } from './chain-status.js';
import type { LedgerEntry } from '../store/types.js';

export interface LaneCounters {
  admitted: number;
  refused: number;
  referred: number;
}

/** Version 1 of the payload on …/stats. */
export interface StatsMessageV1 {
  v: 1;
  at: string;
  site: string;
  checkpoint: string;
  /** Counters start at zero here (gateway start); `session` tells restarts apart. */
  since: string;
  lanes: Record<string, LaneCounters>;
  outboxDepth: number;
  unackedAlerts: number;
  /** People inside each occupancy zone now, with its limit (null = none); only when zones are configured. */
  zones?: Record<string, ZoneOccupancy>;
  /**
   * The ledger's highest seq now (0 when empty). The office expects every seq up to it,
   * so rows lost after the last event it received (a tail gap) are asked for again.
   */
  lastSeq?: number;
  /**
   * The ledger's hash-chain head (docs/store.md "Hash chain"): the office keeps it and
   * alerts when it goes back or changes under the same seq (a ledger cut or rebuilt).
   */
  chain?: ChainStatus;
}

export interface ZoneOccupancy {
  count: number;
  limit: number | null;
}

export interface StatsOptions {
  site: string;
  checkpoint: string;
  topic: string;
  intervalMs: number;
  now: () => number;
  logger: Logger;
  /** Publishes if connected; false when not (the tick is then skipped). */
  publish: (topic: string, payload: string) => boolean;
  outboxDepth: () => number;
  unackedAlerts: () => number;
  lanes: readonly string[];
  /** The occupancy zones now (policy.zones); leave out when there are none. */
  zones?: () => Record<string, ZoneOccupancy>;
  /** The ledger's highest seq (store.lastSeq); leave out to send none. */
  lastSeq?: () => number;
  /** The hash chain's head (store.chainHead, or ChainStatusSource.next with where it starts); leave out, or null, to send none. */
  chainHead?: () => ChainStatus | null;
}

export class StatsReporter {
  readonly #o: StatsOptions;
  readonly #since: number;
  readonly #lanes = new Map<string, LaneCounters>();
  readonly #interval: Interval;

  constructor(options: StatsOptions) {
    this.#o = options;
    this.#interval = new Interval(options.intervalMs, () => this.tick());
    this.#since = options.now();
    for (const lane of options.lanes) this.#counters(lane);
  }

  start(): void {
    this.#interval.start();
  }

  stop(): void {
    this.#interval.stop();
  }

  /** Count a committed ledger row: decisions and timeouts (faults and overrides are no decision of the lane). */
  record(row: Pick<LedgerEntry, 'lane' | 'kind' | 'outcome'>): void {
    if (row.kind !== 'decision' && row.kind !== 'timeout') return;
    const c = this.#counters(row.lane);
    if (row.outcome === 'admit') c.admitted += 1;
    else if (row.outcome === 'refuse') c.refused += 1;
    else c.referred += 1;
  }

  snapshot(): StatsMessageV1 {
    return {
      v: 1,
      at: new Date(this.#o.now()).toISOString(),
      site: this.#o.site,
      checkpoint: this.#o.checkpoint,
      since: new Date(this.#since).toISOString(),
      lanes: Object.fromEntries([...this.#lanes].map(([k, v]) => [k, { ...v }])),
      outboxDepth: this.#o.outboxDepth(),
      ...(this.#o.zones ? { zones: this.#o.zones() } : {}),
      unackedAlerts: this.#o.unackedAlerts(),
      ...(this.#o.lastSeq ? { lastSeq: this.#o.lastSeq() } : {}),
      ...chainOf(this.#o.chainHead?.() ?? null),
    };
  }

  /** Publish now; false when the link is down. */
  tick(): boolean {
    try {
      return this.#o.publish(this.#o.topic, JSON.stringify(this.snapshot()));
    } catch (err) {
      this.#o.logger.warn({ err }, 'stats: could not publish');
      return false;
    }
  }

  #counters(lane: string): LaneCounters {
    let c = this.#lanes.get(lane);
    if (!c) {
      c = { admitted: 0, refused: 0, referred: 0 };
      this.#lanes.set(lane, c);
    }
    return c;
  }
}

function chainOf(head: ChainStatus | null): Pick<StatsMessageV1, 'chain'> {
  return head === null ? {} : { chain: { ...head } };
}
