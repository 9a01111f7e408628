// Occupancy zones (store schema 5): how many are inside, who is inside (anti-passback),
// and the guards' signed corrections of a count. Kept in SQLite so counts survive a restart.
import type Database from 'better-sqlite3';
import { type ChainRoom, wellFormed, zoneCorrectionContent } from './chain.js';
import { invalidQuery, lazyStatements } from './sql.js';
import type { ZoneCorrection } from './types.js';

export type ZoneCorrectionInput = { zone: string; count: number; guard: string; reason: string; at: number };

export class ZoneRoom {
  readonly #db: Database.Database;
  // Prepared on first use: stores opened with an older migration list have no zone tables.
  readonly #stmt: ReturnType<typeof lazyStatements>;
  /** Links each correction into the hash chain in its transaction; null before store schema 10. */
  readonly #chain: ChainRoom | null;

  constructor(db: Database.Database, chain: ChainRoom | null) {
    this.#db = db;
    this.#stmt = lazyStatements(db);
    this.#chain = chain;
  }

  #count(zone: string): number {
    return this.#stmt<{ count: number }>('SELECT count FROM zone_counts WHERE zone = ?').get(zone)?.count ?? 0;
  }

  #setCount(zone: string, count: number, at: number): void {
    this.#stmt(
      'INSERT INTO zone_counts (zone, count, updated_at) VALUES (?, ?, ?) ON CONFLICT (zone) DO UPDATE SET count = excluded.count, updated_at = excluded.updated_at',
    ).run(zone, count, at);
  }

  facts(zone: string, subjectRef: string | null): { count: number; openEntryAt: number | null } {
    const open =
      subjectRef === null
        ? undefined
        : this.#stmt<{ entered_at: number }>('SELECT entered_at FROM zone_presence WHERE zone = ? AND subject_ref = ?').get(zone, subjectRef);
    return { count: this.#count(zone), openEntryAt: open?.entered_at ?? null };
  }

  enter(zone: string, subjectRef: string | null, at: number, opts: { count?: boolean } = {}): number {
    return this.#db.transaction(() => {
      const { count, openEntryAt } = this.facts(zone, subjectRef);
      if (subjectRef !== null) {
        this.#stmt(
          'INSERT INTO zone_presence (zone, subject_ref, entered_at) VALUES (?, ?, ?) ON CONFLICT (zone, subject_ref) DO UPDATE SET entered_at = excluded.entered_at',
        ).run(zone, subjectRef, at);
      }
      // Someone already inside (a soft or expired anti-passback) takes no second place.
      if (opts.count === false) return count;
      const next = openEntryAt === null ? count + 1 : count;
      this.#setCount(zone, next, at);
      return next;
    })();
  }

  exit(zone: string, subjectRef: string | null, at: number, opts: { count?: boolean } = {}): number {
    return this.#db.transaction(() => {
      if (subjectRef !== null) this.#stmt('DELETE FROM zone_presence WHERE zone = ? AND subject_ref = ?').run(zone, subjectRef);
      if (opts.count === false) return this.#count(zone);
      const next = Math.max(0, this.#count(zone) - 1);
      this.#setCount(zone, next, at);
      return next;
    })();
  }

  /** Records the correction (linked into the chain) and sets the count, in one transaction. */
  correct(c: ZoneCorrectionInput): ZoneCorrection {
    if (!Number.isSafeInteger(c.count) || c.count < 0) throw invalidQuery('zone count', c.count, 'a whole number ≥ 0');
    for (const [k, v] of [['zone', c.zone], ['guard', c.guard], ['reason', c.reason]] as const) {
      if (typeof v !== 'string' || v.trim() === '') throw invalidQuery(k, v, 'a non-empty string');
    }
    return this.#db.transaction(() => {
      const from = this.#count(c.zone);
      // Well-formed as SQLite stores them, so the chain hashes what a verifier reads back.
      const row = { zone: wellFormed(c.zone), at: c.at, guard: wellFormed(c.guard), from_count: from, to_count: c.count, reason: wellFormed(c.reason) };
      const id = this.#stmt('INSERT INTO zone_corrections (zone, at, guard, from_count, to_count, reason) VALUES (@zone, @at, @guard, @from_count, @to_count, @reason)').run(row).lastInsertRowid;
      this.#chain?.append('zone-correction', Number(id), c.at, zoneCorrectionContent(row));
      this.#setCount(c.zone, c.count, c.at);
      // An empty zone has nobody inside: no one is held by anti-passback after a reset.
      if (c.count === 0) this.#stmt('DELETE FROM zone_presence WHERE zone = ?').run(c.zone);
      return { zone: c.zone, at: c.at, guard: c.guard, from, to: c.count, reason: c.reason };
    })();
  }

  corrections(zone: string, latest = -1): ZoneCorrection[] {
    if (!Number.isSafeInteger(latest) || latest < -1) throw invalidQuery('zoneCorrections latest', latest, 'a whole number ≥ 0');
    // LIMIT -1 is no limit in SQLite.
    return this.#stmt<{ zone: string; at: number; guard: string; from_count: number; to_count: number; reason: string }>(
      'SELECT zone, at, guard, from_count, to_count, reason FROM zone_corrections WHERE zone = ? ORDER BY id DESC LIMIT ?',
    )
      .all(zone, latest)
      .reverse()
      .map((r) => ({ zone: r.zone, at: r.at, guard: r.guard, from: r.from_count, to: r.to_count, reason: r.reason }));
  }
}
