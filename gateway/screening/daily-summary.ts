// Sends the central office one count-only summary per completed local day (China time):
// workers on the roster, screened, not screened. Queued through the durable outbox in
// the same transaction as the "sent up to" mark, so a restart neither loses nor repeats
// a day, and a day that ended while the link was down is still delivered.
import type { Logger } from 'pino';
import { Interval } from '../interval.js';
import { DAY_MS } from '../policy/time.js';
import type { OutboxMessage } from '../store/types.js';
import { screeningDay, screeningDayOf, screeningReport, screeningSummary, type ScreeningSource } from './report.js';

/** Meta key: the last local date whose summary is queued. */
export const SUMMARY_META_KEY = 'screening.summary.lastDate';
/** After a long stop, only this many missed days are caught up (older ones are in the ledger). */
export const MAX_CATCH_UP_DAYS = 7;

export interface DailySummaryStore extends ScreeningSource {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  outboxAppend(msg: OutboxMessage): number;
  transaction<T>(fn: () => T): T;
}

export interface DailySummaryOptions {
  store: DailySummaryStore;
  topic: string;
  site: string;
  checkpoint: string;
  pseudonym: (staffId: string) => string;
  now: () => number;
  logger: Logger;
  /** How often to look whether a day has ended; 0 = only when check() is called. */
  checkEveryMs: number;
  /** Called after summaries were queued (wake the outbox drain). */
  afterQueue: () => void;
}

export class DailyScreeningSummary {
  readonly #o: DailySummaryOptions;
  readonly #interval: Interval;

  constructor(options: DailySummaryOptions) {
    this.#o = options;
    this.#interval = new Interval(options.checkEveryMs, () => this.check());
  }

  start(): void {
    this.check();
    this.#interval.start();
  }

  stop(): void {
    this.#interval.stop();
  }

  /** Queue the summary of every completed day not yet queued; returns their dates. */
  check(): string[] {
    try {
      const { store } = this.#o;
      const now = this.#o.now();
      const yesterday = screeningDayOf(screeningDayOf(now).from - DAY_MS);
      const last = store.getMeta(SUMMARY_META_KEY);
      if (last === undefined) {
        // A new (or newly upgraded) gateway starts with today: its first summary goes out
        // after tonight's midnight, not at start-up.
        store.setMeta(SUMMARY_META_KEY, yesterday.date);
        return [];
      }
      const from = Math.max(yesterday.from - (MAX_CATCH_UP_DAYS - 1) * DAY_MS, screeningDay(last).to);
      const dates: string[] = [];
      store.transaction(() => {
        for (let at = from; at <= yesterday.from; at += DAY_MS) {
          const day = screeningDayOf(at);
          const summary = screeningSummary(screeningReport(store, day, this.#o.pseudonym), this.#o, now);
          store.outboxAppend({ topic: this.#o.topic, payload: JSON.stringify(summary), qos: 1 });
          dates.push(day.date);
        }
        if (dates.length > 0) store.setMeta(SUMMARY_META_KEY, yesterday.date);
      });
      if (dates.length > 0) {
        this.#o.logger.info({ dates }, 'daily screening summary queued');
        this.#o.afterQueue();
      }
      return dates;
    } catch (err) {
      // A bad meta value or a busy database must not stop the gateway: try again next time.
      this.#o.logger.warn({ err }, 'daily screening summary: could not queue');
      return [];
    }
  }
}
