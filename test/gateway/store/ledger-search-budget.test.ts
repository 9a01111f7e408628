// The guard's "who" search without dates reads a bounded number of rows for names per
// request (names have no index) and says how far back it searched; the pseudonym still
// matches over the whole ledger on its index. Walking the pages gives what a full scan gives.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE, openStore, type LedgerQuery, type LedgerSearchOptions, type SqliteStore } from '../../../gateway/store/index.js';
import { closeAndRemove, entry, freshDir, track } from './helpers.js';

// One ledger for every test (they only read it): 2000 appends are slow on a loaded machine.
let filled: { dir: string; store: SqliteStore };
beforeAll(() => {
  filled = fill();
}, 120_000);
afterAll(closeAndRemove);

const DAY = 86_400_000;
const T0 = 1_764_806_400_000;
const PER_DAY = 50;
const ROWS = 2000; // 40 days
/** The personal-data window starts at day 25: older rows had their names erased. */
const NAMES_FROM = T0 + 25 * DAY;
const OPTS: LedgerSearchOptions = { namesFrom: NAMES_FROM, nameScanRows: 100, wholeRangeRows: 200 };

function fill(): { dir: string; store: SqliteStore } {
  const dir = freshDir();
  const store = track(openStore(dir));
  for (let i = 0; i < ROWS; i++) {
    const at = T0 + Math.floor((i * DAY) / PER_DAY);
    const person = i % 20;
    // One person seen only in the first days; one rare name deep in the window.
    const ref = [5, 10, 15].includes(i) ? 'p1_old' : i === 1300 ? 'p1_rare' : `p1_person${person}`;
    const name = i === 1300 ? '欧阳稀' : `工人${person}号`;
    store.appendDecision(
      entry({ id: `budget-${i}`, at, lane: i % 2 === 0 ? 'in-1' : 'out-1', subjectRef: ref, subjectName: at >= NAMES_FROM ? name : null }),
      () => null,
    );
  }
  return { dir, store };
}

/** The one-step full scan the search used to run: the reference. */
function fullScan(dir: string, q: LedgerQuery): number[] {
  const where = ['(subject_ref = @ref OR instr(subject_name, @name) > 0)'];
  const p: Record<string, unknown> = { ref: q.subjectMatch!.ref, name: q.subjectMatch!.name };
  if (q.lane !== undefined) (where.push('lane = @lane'), (p['lane'] = q.lane));
  if (q.from !== undefined) (where.push('at >= @from'), (p['from'] = q.from));
  if (q.to !== undefined) (where.push('at < @to'), (p['to'] = q.to));
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare<[Record<string, unknown>], { seq: number }>(`SELECT seq FROM ledger WHERE ${where.join(' AND ')} ORDER BY seq DESC`).all(p).map((r) => r.seq);
  } finally {
    db.close();
  }
}

/** Follows nextBefore to the end; returns each page and the rows each page vouches for (at or above its nextBefore). */
function walk(store: SqliteStore, q: LedgerQuery, o = OPTS) {
  const pages = [];
  const vouched: number[] = [];
  const seen = new Set<number>();
  for (let before: number | undefined; ; ) {
    const page = store.searchEvents({ ...q, ...(before === undefined ? {} : { beforeSeq: before }) }, o);
    pages.push(page);
    for (const r of page.rows) seen.add(r.seq);
    vouched.push(...page.rows.filter((r) => page.nextBefore === null || r.seq >= page.nextBefore).map((r) => r.seq));
    if (page.nextBefore === null) break;
    expect(page.nextBefore).toBeLessThan(before ?? Number.POSITIVE_INFINITY);
    before = page.nextBefore;
  }
  return { pages, vouched, seen: [...seen].sort((a, b) => b - a) };
}

describe('the guard search of a name or id without dates', () => {
  it('finds a name older than one request reads by continuing from where names were searched back to ("search older")', () => {
    const { store } = filled;
    const first = store.searchEvents({ subjectMatch: { ref: 'p1_none', name: '欧阳' }, limit: 50 }, OPTS);
    expect(first.rows).toEqual([]);
    // 100 rows back from the newest (seq 2000): names searched in seqs 1901-2000.
    expect(first.searchedBackTo).toEqual({ seq: 1901, at: T0 + Math.floor((1900 * DAY) / PER_DAY) });
    expect(first.nextBefore).toBe(1901);
    const second = store.searchEvents({ subjectMatch: { ref: 'p1_none', name: '欧阳' }, limit: 50, beforeSeq: first.nextBefore! }, OPTS);
    expect(second.searchedBackTo?.seq).toBe(1801);
    const { pages, seen } = walk(store, { subjectMatch: { ref: 'p1_none', name: '欧阳' }, limit: 50 });
    expect(seen).toEqual([1301]);
    // The seventh request reads seqs 1301-1400, where the name is.
    expect(pages.findIndex((p) => p.rows.length > 0)).toBe(6);
    // Names are never searched before the personal-data window (seq 1251 = day 25's first row): the walk ends there.
    expect(pages.at(-1)).toMatchObject({ nextBefore: null, searchedBackTo: null });
    expect(pages.at(-2)!.searchedBackTo!.seq).toBe(1301);
  });

  it("finds a staff id's rows anywhere in the ledger in one request, on the pseudonym's index", () => {
    const { store } = filled;
    const page = store.searchEvents({ subjectMatch: { ref: 'p1_old', name: 'W-0001' }, limit: 50 }, OPTS);
    expect(page.rows.map((r) => r.id)).toEqual(['budget-15', 'budget-10', 'budget-5']);
    // The name was searched in the last 100 rows only: the page says so and continues there.
    expect(page.searchedBackTo?.seq).toBe(1901);
    expect(page.nextBefore).toBe(1901);
  });

  it('walks to exactly the rows of a full scan, in order, for a frequent name, a rare one, none, an id, and with filters', () => {
    const { dir, store } = filled;
    const queries: LedgerQuery[] = [
      { subjectMatch: { ref: 'p1_none', name: '工人3号' }, limit: 7 },
      { subjectMatch: { ref: 'p1_none', name: '工人1' }, limit: 200 },
      { subjectMatch: { ref: 'p1_none', name: '稀' }, limit: 10 },
      { subjectMatch: { ref: 'p1_none', name: '不在名单' }, limit: 10 },
      { subjectMatch: { ref: 'p1_person4', name: '工人' }, limit: 33 },
      { subjectMatch: { ref: 'p1_person4', name: 'E-4' }, limit: 33 },
      { subjectMatch: { ref: 'p1_old', name: '工人7号' }, limit: 5 },
      { subjectMatch: { ref: 'p1_person3', name: '工人2号' }, lane: 'in-1', limit: 20 },
      // A range wider than one request's rows: the same budget; a narrow one: searched whole.
      { subjectMatch: { ref: 'p1_person6', name: '工人8号' }, from: T0 + 20 * DAY, to: T0 + 38 * DAY, limit: 15 },
      { subjectMatch: { ref: 'p1_person6', name: '工人8号' }, from: T0 + 30 * DAY, to: T0 + 31 * DAY, limit: 15 },
    ];
    for (const q of queries) {
      const expected = fullScan(dir, q);
      const { vouched, seen, pages } = walk(store, q);
      expect(vouched, JSON.stringify(q)).toEqual(expected);
      expect(seen, JSON.stringify(q)).toEqual(expected);
      for (const p of pages) expect(p.rows.length).toBeLessThanOrEqual(q.limit!);
    }
    expect(queries.every((q) => fullScan(dir, q).length > 0 || q.subjectMatch!.name === '不在名单')).toBe(true);
  });

  it('searches a range of at most wholeRangeRows rows whole, as the plain search does', () => {
    const { store } = filled;
    const q: LedgerQuery = { subjectMatch: { ref: 'p1_none', name: '工人8号' }, from: T0 + 30 * DAY, to: T0 + 31 * DAY, limit: 100 };
    const page = store.searchEvents(q, OPTS);
    expect(page.searchedBackTo).toBeNull();
    expect(page.nextBefore).toBeNull();
    expect(page.rows).toEqual(store.queryEvents(q));
  });

  it('refuses a budget that is not a whole number of rows', () => {
    const { store } = filled;
    expect(() => store.searchEvents({ subjectMatch: { ref: 'x', name: 'y' } }, { namesFrom: NAMES_FROM, nameScanRows: 0 })).toThrow(/STORE_INVALID_QUERY.*nameScanRows/);
  });
});
