// Migration 11 (the covering index of a day's reads) on a ledger that already has rows,
// and the guard search's two-step query (a page's seqs first, then their rows): every read
// answers exactly as before the migration.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, MIGRATIONS, openStore, type LedgerQuery, type NewLedgerEntry } from '../../../gateway/store/index.js';
import type { SqliteStore } from '../../../gateway/store/sqlite-store.js';
import type { EvaluatedFacts } from '../../../gateway/policy/types.js';
import { closeAndRemove, entry, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

const DAY = 86_400_000;
const T0 = 1_764_806_400_000; // a local midnight is irrelevant here: days are plain [from, to)

function facts(now: number): EvaluatedFacts {
  return {
    v: 1,
    now,
    credential: { ok: true, kind: 'health-pass', category: 'employee', health: { healthCode: 'green' } },
    readings: [{ celsius: 36.5, at: now - 500 }],
    watchlist: [],
    approvals: [],
    riskAreas: [],
  };
}

/** Three days of mixed rows; `at` steps back once (a clock corrected), so seq order and time order differ. */
function rows(): NewLedgerEntry[] {
  const out: NewLedgerEntry[] = [];
  const lanes = ['in-1', 'in-2', 'out-1'];
  const outcomes = ['admit', 'admit', 'refuse', 'refer'] as const;
  for (let i = 0; i < 240; i++) {
    const at = T0 + Math.floor(i / 80) * DAY + (i % 80) * 900_000 - (i === 81 ? 2 * 3_600_000 : 0);
    const kind = i % 17 === 0 ? 'timeout' : i % 23 === 0 ? 'override' : 'decision';
    out.push(
      entry({
        id: `growth-${i}`,
        at,
        lane: lanes[i % 3]!,
        kind,
        outcome: kind === 'timeout' ? 'refer' : kind === 'override' ? 'admit' : outcomes[i % 4]!,
        credential: i % 5 === 0 ? 'staff-badge' : 'health-pass',
        subjectRef: kind === 'override' ? null : `p1_person${i % 12}`,
        subjectName: kind === 'override' ? null : `工人${i % 12}号`,
        ...(kind === 'decision' ? { profile: 'mine-entrance', profileHash: 'a'.repeat(64), facts: facts(at) } : {}),
      }),
    );
  }
  return out;
}

const QUERIES: LedgerQuery[] = [
  {},
  { limit: 7 },
  { from: T0 + DAY, to: T0 + 2 * DAY, limit: 1000 },
  { from: T0 + DAY, to: T0 + 2 * DAY, limit: 10 },
  { from: T0 + DAY, to: T0 + 2 * DAY, limit: 10, beforeSeq: 150 },
  { from: T0, to: T0 + 3 * DAY, lane: 'in-2', limit: 25 },
  { from: T0, to: T0 + DAY, outcome: 'refuse' },
  { from: T0, to: T0 + 3 * DAY, credential: 'staff-badge', limit: 30 },
  { from: T0 + DAY, to: T0 + 2 * DAY, subjectMatch: { ref: 'p1_person3', name: '工人3号' } },
  { subjectMatch: { ref: 'p1_nobody', name: '工人1' }, limit: 50 },
  { subjectRef: 'p1_person5', outcome: 'admit', from: T0, to: T0 + 2 * DAY, limit: 1 },
  { subjectRef: 'p1_person5', limit: 1 },
  { lane: 'in-1', beforeSeq: 200, from: T0 + 2 * DAY - 3_600_000, limit: 1 },
];

function everyRead(store: SqliteStore): unknown {
  return {
    queries: QUERIES.map((q) => store.queryEvents(q)),
    hourly: [0, 1, 2].map((d) => store.ledgerHourly(T0 + d * DAY, T0 + (d + 1) * DAY)),
    first: [0, 1, 2].map((d) => store.firstPassages(T0 + d * DAY, T0 + (d + 1) * DAY)),
    replay: [...store.replayRows({ from: T0 + DAY, to: T0 + 2 * DAY })],
  };
}

function indexes(dir: string): string[] {
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger' AND sql IS NOT NULL ORDER BY name").all().map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('migration 11: the covering index of a day', () => {
  it('applies on a ledger with rows, replaces ledger_at, and every read returns the same rows as before', () => {
    const dir = freshDir();
    const old = openStore(dir, { migrations: MIGRATIONS.slice(0, 10) });
    for (const e of rows()) old.appendDecision(e, () => null);
    const before = everyRead(old);
    old.close();
    expect(indexes(dir)).toContain('ledger_at');

    const upgraded = track(openStore(dir));
    expect(upgraded.schemaVersion).toBeGreaterThanOrEqual(11);
    expect(indexes(dir)).toContain('ledger_day');
    expect(indexes(dir)).not.toContain('ledger_at');
    expect(everyRead(upgraded)).toEqual(before);
    expect(upgraded.verifyChain().ok).toBe(true);
  });

  it('a search page is the newest rows by seq even where time went back, and paging walks them all once', () => {
    const store = track(openStore(freshDir()));
    for (const e of rows()) store.appendDecision(e, () => null);
    const day = { from: T0 + DAY, to: T0 + 2 * DAY };
    const all = store.queryEvents({ ...day, limit: 1000 });
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(all.every((e) => e.at >= day.from && e.at < day.to)).toBe(true);
    // Row 81 stepped back into the first day: it is in that day's answer, not the second's.
    expect(all.some((e) => e.id === 'growth-81')).toBe(false);
    expect(store.queryEvents({ from: T0, to: T0 + DAY, limit: 1 }).map((e) => e.id)).toEqual(['growth-81']);
    const paged: number[] = [];
    for (let before: number | undefined; ; ) {
      const page = store.queryEvents({ ...day, limit: 9, ...(before === undefined ? {} : { beforeSeq: before }) });
      paged.push(...page.map((e) => e.seq));
      if (page.length < 9) break;
      before = page.at(-1)!.seq;
    }
    expect(paged).toEqual(seqs);
  });
});
