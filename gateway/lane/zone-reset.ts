// Scheduled resets of zone counts (a canteen empties after each meal, a bathhouse at
// closing): at each configured local time the count goes to 0 and nobody is held by
// anti-passback. Each reset is a recorded correction signed "schedule", so the count's
// history shows it. The last reset slot is kept in SQLite, so a gateway that was off at
// reset time resets once when it comes back, and a restart never resets twice.
import type { Logger } from 'pino';
import { Interval } from '../interval.js';
import { latestTimeOfDay } from '../policy/time.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { ZoneCorrection } from '../store/types.js';

/** Who signs a scheduled reset in the corrections. */
export const SCHEDULE_GUARD = 'schedule';

export const resetMetaKey = (zone: string): string => `zone.${zone}.lastScheduledReset`;

export type ZoneResetStore = Pick<SqliteStore, 'getMeta' | 'setMeta' | 'transaction' | 'zoneCorrect'>;

export interface ZoneResetOptions {
  store: ZoneResetStore;
  zones: readonly { id: string; resetAt: readonly string[] }[];
  now: () => number;
  logger: Logger;
  /** How often to look whether a reset time has passed; 0 = only when check() is called. */
  checkEveryMs: number;
  /** After a reset was recorded (raise the office's alert). */
  onReset?: (c: ZoneCorrection) => void;
}

export class ZoneResetSchedule {
  readonly #o: ZoneResetOptions;
  readonly #interval: Interval;

  constructor(options: ZoneResetOptions) {
    this.#o = options;
    this.#interval = new Interval(options.zones.some((z) => z.resetAt.length > 0) ? options.checkEveryMs : 0, () => this.check());
  }

  start(): void {
    this.check();
    this.#interval.start();
  }

  stop(): void {
    this.#interval.stop();
  }

  /** Reset every zone whose reset time has passed since its last reset; returns the corrections. */
  check(): ZoneCorrection[] {
    const { store, logger } = this.#o;
    const now = this.#o.now();
    const done: ZoneCorrection[] = [];
    for (const zone of this.#o.zones) {
      const slot = latestTimeOfDay(now, zone.resetAt);
      if (slot === null) continue;
      try {
        const c = store.transaction(() => {
          const last = store.getMeta(resetMetaKey(zone.id));
          if (last !== undefined && Number(last) >= slot.at) return null;
          store.setMeta(resetMetaKey(zone.id), String(slot.at));
          // First sight of a schedule (new zone or upgraded gateway): start from now
          // rather than emptying a zone people are in.
          if (last === undefined) return null;
          return store.zoneCorrect({ zone: zone.id, count: 0, guard: SCHEDULE_GUARD, reason: `scheduled reset ${slot.time}`, at: now });
        });
        if (c) {
          logger.info({ zone: zone.id, from: c.from, time: slot.time }, 'zone count reset by schedule');
          done.push(c);
          this.#o.onReset?.(c);
        }
      } catch (err) {
        // A busy database must not stop the gateway: the next check tries again.
        logger.warn({ err, zone: zone.id }, 'zone reset: could not reset');
      }
    }
    return done;
  }
}
