// Monthly partitions of events and alerts: created ahead (at start, and before a batch
// that holds a month not seen yet), and dropped whole by the retention job, which is far
// cheaper than DELETE and leaves no bloat.
import type { Db, Queryable } from './adapter.js';

export const PARTITIONED = ['events', 'alerts'] as const;
export type PartitionedTable = (typeof PARTITIONED)[number];

/** `2026-12` → `events_y2026m12`. */
export function partitionName(table: PartitionedTable, month: string): string {
  return `${table}_y${month.slice(0, 4)}m${month.slice(5, 7)}`;
}

/** The UTC month (`YYYY-MM`) of a time. */
export function monthOf(at: string | number | Date): string {
  return new Date(at).toISOString().slice(0, 7);
}

export function addMonths(month: string, n: number): string {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7)) - 1 + n;
  const d = new Date(Date.UTC(y, m, 1));
  return d.toISOString().slice(0, 7);
}

export class Partitions {
  readonly #known = new Set<string>();

  constructor(private readonly db: Db) {}

  /** Makes sure both tables have a partition for each month; cheap for months already seen. */
  async ensure(months: Iterable<string>): Promise<void> {
    for (const month of new Set(months)) {
      if (this.#known.has(month)) continue;
      await this.db.transaction(async (tx) => {
        // Two instances creating the same partition would race on the catalog.
        await tx.query('SELECT pg_advisory_xact_lock(727400002)');
        for (const table of PARTITIONED) await createPartition(tx, table, month);
      });
      this.#known.add(month);
    }
  }

  /** Forgets what it knows exists (after a failed insert: another instance may have dropped one). */
  forget(): void {
    this.#known.clear();
  }

  /** Drops partitions entirely older than `months` months before `now`; returns their names. */
  async dropOlderThan(months: number, now: number): Promise<string[]> {
    const cutoff = addMonths(monthOf(now), -months); // partitions before this month go
    const rows = await this.db.query<{ name: string }>(
      `SELECT c.relname AS name
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = current_schema() AND p.relname = ANY($1::text[])`,
      [PARTITIONED as unknown as string[]],
    );
    const dropped: string[] = [];
    for (const { name } of rows) {
      const m = /_y(\d{4})m(\d{2})$/.exec(name);
      if (!m || `${m[1]}-${m[2]}` >= cutoff) continue;
      await this.db.exec(`DROP TABLE IF EXISTS ${name}`);
      this.#known.delete(`${m[1]}-${m[2]}`);
      dropped.push(name);
    }
    // The dedupe keys of dropped rows go too (they would block nothing, but grow forever).
    if (dropped.length > 0) {
      const from = `${cutoff}-01T00:00:00Z`;
      await this.db.query('DELETE FROM event_keys WHERE at < $1', [from]);
      await this.db.query('DELETE FROM alert_keys WHERE at < $1', [from]);
    }
    return dropped;
  }
}

async function createPartition(tx: Queryable, table: PartitionedTable, month: string): Promise<void> {
  if (!/^\d{4}-\d{2}$/.test(month)) throw new Error(`month "${month}": expected YYYY-MM`);
  const from = `${month}-01T00:00:00Z`;
  const to = `${addMonths(month, 1)}-01T00:00:00Z`;
  await tx.exec(`CREATE TABLE IF NOT EXISTS ${partitionName(table, month)} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`);
}
