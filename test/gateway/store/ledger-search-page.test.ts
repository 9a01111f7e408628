// The guard search's two-step query (a page's seqs first, on an index, then their rows)
// answers exactly as the plain one-step query does, on every filter the console sends.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, openStore, type LedgerQuery, type NewLedgerEntry } from '../../../gateway/store/index.js';
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

/** The one-step query the store ran before: the reference. */
function plainSeqs(dir: string, q: LedgerQuery): number[] {
  const where: string[] = [];
  const p: Record<string, unknown> = { limit: q.limit ?? 100 };
  const add = (sql: string, k: string, v: unknown) => {
    where.push(sql);
    p[k] = v;
  };
  if (q.lane !== undefined) add('lane = @lane', 'lane', q.lane);
  if (q.outcome !== undefined) add('outcome = @outcome', 'outcome', q.outcome);
  if (q.subjectRef !== undefined) add('subject_ref = @subjectRef', 'subjectRef', q.subjectRef);
  if (q.credential !== undefined) add('credential = @credential', 'credential', q.credential);
  if (q.subjectMatch !== undefined) {
    add('(subject_ref = @matchRef OR instr(subject_name, @matchName) > 0)', 'matchRef', q.subjectMatch.ref);
    p['matchName'] = q.subjectMatch.name;
  }
  if (q.from !== undefined) add('at >= @from', 'from', q.from);
  if (q.to !== undefined) add('at < @to', 'to', q.to);
  if (q.beforeSeq !== undefined) add('seq < @beforeSeq', 'beforeSeq', q.beforeSeq);
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    const sql = `SELECT seq FROM ledger${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
    return db.prepare<[Record<string, unknown>], { seq: number }>(sql).all(p).map((r) => r.seq);
  } finally {
    db.close();
  }
}

describe('the guard search on a page of seqs first', () => {
  it('returns the same rows in the same order as the one-step query, for every filter', () => {
    const dir = freshDir();
    const store = track(openStore(dir));
    for (const e of rows()) store.appendDecision(e, () => null);
    for (const q of QUERIES) {
      const got = store.queryEvents(q);
      expect(got.map((e) => e.seq), JSON.stringify(q)).toEqual(plainSeqs(dir, q));
      // Whole rows, read back as the store reads any row.
      expect(got).toEqual(store.ledgerRange(1, 10_000).filter((e) => got.some((g) => g.seq === e.seq)).reverse());
    }
    expect(QUERIES.every((q) => plainSeqs(dir, q).length > 0)).toBe(true);
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
