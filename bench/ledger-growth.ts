// The ledger at a large mine's size: BENCH_LEDGER_ROWS rows (default 10 million, ~60 000
// passages a day, about 5½ months; bench/ledger-fill.ts writes them, once per size, and
// keeps the file under the temp folder) against an empty ledger with the same roster and
// zone, in the same run. Figures: a decision end to end; the guard console's ledger search
// of one day (and its CSV export), today's counts, the daily screening report, anti-passback
// and zone lookups, the vehicle rule's count, `policy replay` of one day (all through the
// real store and route code), the gateway's start-up (spawn until "ready"), the file's size
// per million rows, and the migrations a gateway upgraded onto such a file applies. Each
// read's query plan is printed so table scans show. No assertions: the targets are
// printed beside the figures.
// The retention job's throughput is bench/ledger-retention.ts.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { replayLedger } from '../gateway/cli/policy.js';
import { csvHeader, csvRow } from '../gateway/http/csv.js';
import { answeredPassage, toGuardEvent } from '../gateway/http/guard-api.js';
import { MINE_ENTRANCE } from '../gateway/policy/profiles.js';
import { DAY_MS } from '../gateway/policy/time.js';
import { screeningDayOf, screeningReport } from '../gateway/screening/report.js';
import { DATABASE_FILE, MIGRATIONS, NAME_SCAN_ROWS, PAGE_CACHE_KB, expiryBefore, openStore, type LedgerQuery, type LedgerSearchOptions, type SqliteStore } from '../gateway/store/index.js';
import { FIRST_PASSAGES_SQL, HOURLY_SQL, REPLAY_SQL, VEHICLE_GOODS_SQL, ledgerQuerySql, searchNamesSql, searchRefsSql, type QueryParams } from '../gateway/store/ledger.js';
import { pseudonymizer } from '../gateway/telemetry/pseudonym.js';
import { CANTEEN, FILL_SCHEMA, FILL_SECRET, fillLedger, filledLedger, people, type FillResult } from './ledger-fill.js';
import { percentile } from './stats.js';
import { benchLane, demoPasses, demoTrust } from './sim-lane.js';

const N = Number(process.env.BENCH_LEDGER_ROWS ?? 10_000_000);
const PASSAGES = Number(process.env.BENCH_GROWTH_PASSAGES ?? 2000);
const REPEAT = Number(process.env.BENCH_GROWTH_REPEAT ?? 11);
const STARTS = Number(process.env.BENCH_GROWTH_STARTS ?? 3);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const log = (s: string): void => console.log(s);

type Side = 'empty' | 'full';
interface Case {
  name: string;
  /** ms; printed beside the figure. */
  target?: number;
  /** Runs per side (default REPEAT); heavy ones fewer. */
  runs?: number;
  run: (s: SqliteStore, side: Side) => unknown;
}

/** Times `run` on both stores, alternating, so load from other jobs falls on both alike. */
function timeCase(c: Case, stores: Record<Side, SqliteStore>): Record<Side, number[]> {
  const out: Record<Side, number[]> = { empty: [], full: [] };
  const runs = c.runs ?? REPEAT;
  for (let i = 0; i < runs; i++) {
    for (const side of ['empty', 'full'] as const) {
      const t = performance.now();
      c.run(stores[side], side);
      out[side].push(performance.now() - t);
    }
  }
  return out;
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(3)).padStart(8);

function printCase(c: Case, t: Record<Side, number[]>): void {
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const e = sorted(t.empty);
  const f = sorted(t.full);
  const fullP50 = percentile(f, 50);
  const verdict = c.target === undefined ? '' : `${fullP50 <= c.target ? 'within' : 'OVER'} ${c.target} ms`;
  // First run apart: the first on the full ledger reads pages SQLite's cache does not hold yet.
  console.log(
    `${c.name.padEnd(52)} ${ms(percentile(e, 50))} ${ms(fullP50)} ${ms(f.at(-1) ?? Number.NaN)} ${ms(t.full[0] ?? Number.NaN)} ${String(f.length).padStart(4)}  ${verdict}`,
  );
}

/** Spawns the gateway on `dataDir` and resolves with [ms until its "ready" line, readyMs it reports]. */
function startUntilReady(dataDir: string, timeoutMs: number): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['dist/gateway/main.js'], { cwd: root, env: { ...process.env, DATA_DIR: dataDir, HTTP_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway on ${dataDir}: no ready line within ${timeoutMs} ms`));
    }, timeoutMs);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0 && code !== null) reject(new Error(`gateway exited with ${code}: ${stderr.slice(-2000)}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('"readyMs"')) return;
      const wall = performance.now() - start;
      clearTimeout(timer);
      child.kill('SIGTERM');
      child.once('exit', () => resolve([wall, (JSON.parse(line) as { readyMs: number }).readyMs]));
    });
  });
}

async function decideLatencies(stores: Record<Side, SqliteStore>): Promise<Record<Side, number[]>> {
  const trust = await demoTrust();
  const now = Date.now();
  const passes = await demoPasses(PASSAGES, now, 'growth');
  const lanes = Object.fromEntries(
    (['empty', 'full'] as const).map((side) => [
      side,
      benchLane(stores[side], trust, { id: 'in-1', secret: FILL_SECRET }),
    ]),
  ) as Record<Side, ReturnType<typeof benchLane>>;
  for (const l of Object.values(lanes)) await l.lane.start();
  const out: Record<Side, number[]> = { empty: [], full: [] };
  // Blocks of 100 alternating, so the other jobs' load falls on both.
  for (let from = 0; from < PASSAGES; from += 100) {
    for (const side of ['empty', 'full'] as const) {
      const { lane, scanner, thermometer } = lanes[side];
      for (const pass of passes.slice(from, from + 100)) {
        const t = performance.now();
        thermometer.reading(36.5);
        scanner.scan(pass);
        await lane.settled();
        out[side].push(performance.now() - t);
      }
    }
  }
  for (const l of Object.values(lanes)) await l.lane.stop();
  return out;
}

/** The guard console's search as its route runs it: the store's query, then each row as the console gets it. */
function guardSearch(s: SqliteStore, q: LedgerQuery): number {
  return s.queryEvents(q).map((e) => toGuardEvent(e, answeredPassage(s, e))).length;
}

/** The console's search as GET /guard/ledger runs it now: one page of bounded work, each row as the console gets it. */
function guardPage(s: SqliteStore, q: LedgerQuery, o: LedgerSearchOptions): number {
  return s.searchEvents(q, o).rows.map((e) => toGuardEvent(e, answeredPassage(s, e))).length;
}

/** Every page of a search, following nextBefore (the guard clicking "search older" to the end); [pages, rows]. */
function guardWalk(s: SqliteStore, q: LedgerQuery, o: LedgerSearchOptions, times: number[]): [number, number] {
  const seen = new Set<number>();
  let pages = 0;
  for (let before: number | undefined; ; ) {
    const t = performance.now();
    const page = s.searchEvents({ ...q, ...(before === undefined ? {} : { beforeSeq: before }) }, o);
    times.push(performance.now() - t);
    pages += 1;
    for (const r of page.rows) seen.add(r.seq);
    if (page.nextBefore === null) return [pages, seen.size];
    before = page.nextBefore;
  }
}

/** The CSV export route's loop: pages of 1000 until the rows end. */
function csvExport(s: SqliteStore, q: LedgerQuery): number {
  let out = csvHeader();
  let before: number | undefined;
  for (;;) {
    const page = s.queryEvents({ ...q, limit: 1000, ...(before === undefined ? {} : { beforeSeq: before }) });
    for (const row of page) out += csvRow(row);
    const last = page.at(-1);
    if (page.length < 1000 || last === undefined) break;
    before = last.seq;
  }
  return out.length;
}

function planOf(db: Database.Database, sql: string): string {
  const names = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!))];
  const positional = (sql.match(/\?/g) ?? []).length;
  const stmt = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const rows = (names.length > 0 ? stmt.all(Object.fromEntries(names.map((n) => [n, n === 'limit' ? 200 : 1]))) : stmt.all(...Array<number>(positional).fill(1))) as { detail: string }[];
  return rows.map((r) => r.detail).join(' | ');
}

export async function benchLedgerGrowth(): Promise<void> {
  const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`ledger rows: ${N.toLocaleString('en')}; load average at start ${load()}`);
  const t0 = performance.now();
  const full: FillResult = filledLedger(N, log);
  if (full.cached) console.log(`filled ledger reused from ${full.dir} (delete it to rebuild)`);
  else console.log(`fill: ${N.toLocaleString('en')} rows over ${full.days} days in ${(full.ms / 1000).toFixed(0)} s (${Math.round(N / (full.ms / 1000)).toLocaleString('en')} rows/s), kept in ${full.dir}`);

  const fullDir = mkdtempSync(path.join(tmpdir(), 'bench-growth-full-'));
  const emptyDir = mkdtempSync(path.join(tmpdir(), 'bench-growth-empty-'));
  try {
    let t = performance.now();
    copyFileSync(path.join(full.dir, DATABASE_FILE), path.join(fullDir, DATABASE_FILE));
    console.log(`working copy made in ${((performance.now() - t) / 1000).toFixed(1)} s (the cached file stays at schema ${FILL_SCHEMA})`);
    fillLedger(emptyDir, 0, full);

    // The first start of each applies the migrations after the fill's schema, as the first
    // start of an upgraded gateway does (systemd gives it TimeoutStartSec=60); then later starts.
    const pending = MIGRATIONS.filter((m) => m.version > FILL_SCHEMA).map((m) => m.version);
    const firstStart: Record<Side, number> = { empty: 0, full: 0 };
    for (const [side, dir] of [['empty', emptyDir], ['full', fullDir]] as const) firstStart[side] = (await startUntilReady(dir, 900_000))[0];
    console.log(
      `first start, spawn → "ready"${pending.length > 0 ? ` (applies migration ${pending.join(', ')})` : ''}: empty ${firstStart.empty.toFixed(0)} ms, full ${(firstStart.full / 1000).toFixed(1)} s`,
    );

    const bytes = statSync(path.join(fullDir, DATABASE_FILE)).size;
    console.log(`file size: ${(bytes / 1e9).toFixed(2)} GB, ${(bytes / N).toFixed(0)} bytes/row, ${((bytes / N) * 1e6 / 1e9).toFixed(2)} GB per million rows (empty: ${(statSync(path.join(emptyDir, DATABASE_FILE)).size / 1e6).toFixed(2)} MB)`);
    const raw = new Database(path.join(fullDir, DATABASE_FILE), { readonly: true });
    try {
      t = performance.now();
      const parts = raw.prepare<[], { name: string; bytes: number }>("SELECT name, sum(pgsize) AS bytes FROM dbstat WHERE name LIKE 'ledger%' OR name LIKE 'sqlite_autoindex_ledger%' OR name = 'chain' GROUP BY name ORDER BY bytes DESC").all();
      console.log(`  by table and index, per million rows (dbstat, ${((performance.now() - t) / 1000).toFixed(0)} s): ${parts.map((p) => `${p.name} ${((p.bytes / N) * 1e6 / 1e6).toFixed(0)} MB`).join(', ')}`);
    } catch (err) {
      console.log(`  (no dbstat: ${err instanceof Error ? err.message : String(err)})`);
    }

    // Start-up: spawn until "ready", alternating.
    const starts: Record<Side, number[]> = { empty: [], full: [] };
    for (let i = 0; i < STARTS; i++) {
      for (const [side, dir] of [['empty', emptyDir], ['full', fullDir]] as const) starts[side].push((await startUntilReady(dir, 600_000))[0]);
    }

    // As the gateway opens its store: WAL checkpoints in a worker thread (BENCH_CHECKPOINT_WORKER=off:
    // inside the commits, where on the full ledger each one writes pages all over an 11 GB file).
    const checkpointWorker = process.env.BENCH_CHECKPOINT_WORKER !== 'off';
    // BENCH_LEDGER_PAGE_CACHE_KB: another page cache than the gateway's (PAGE_CACHE_KB), for before/after.
    const pageCacheKb = process.env.BENCH_LEDGER_PAGE_CACHE_KB ? Number(process.env.BENCH_LEDGER_PAGE_CACHE_KB) : undefined;
    if (pageCacheKb !== undefined) console.log(`page cache ${pageCacheKb} kB on both stores (the gateway's: ${PAGE_CACHE_KB} kB)`);
    const opts = { checkpointWorker, ...(pageCacheKb !== undefined ? { pageCacheKb } : {}) };
    const stores: Record<Side, SqliteStore> = { empty: openStore(emptyDir, opts), full: openStore(fullDir, opts) };
    try {
      const crowd = people();
      const someone = crowd[1234]!;
      const driver = crowd.find((p) => p.plate !== null)!;
      const pseudonym = pseudonymizer(FILL_SECRET);
      const mid = full.from + Math.floor(full.days / 2) * DAY_MS;
      const day = { from: mid, to: mid + DAY_MS };
      const last = { from: full.to - DAY_MS, to: full.to };
      // The second page's cursor: the last seq of each side's first page.
      const firstPageEnd: Record<Side, number> = { empty: 1, full: 1 };
      for (const side of ['empty', 'full'] as const) firstPageEnd[side] = stores[side].queryEvents({ ...day, limit: 200 }).at(-1)?.seq ?? 1;
      const subject = (v: string) => ({ ref: pseudonym(v), name: v });
      // "Today" is the day after the fill's last: names are searched in the last privacy.personalDataDays (28).
      const scanRows = Number(process.env.BENCH_NAME_SCAN_ROWS ?? NAME_SCAN_ROWS);
      const names: LedgerSearchOptions = { namesFrom: expiryBefore(full.to, 28), nameScanRows: scanRows };
      // A surname many share, one person's full name, and a name nobody has.
      const frequent = someone.name.slice(0, 1);
      const rare = someone.name;
      const nobody = '不在名单';

      const cases: Case[] = [
        { name: 'guard search: one day (mid), first 200', target: 100, run: (s) => guardSearch(s, { ...day, limit: 200 }) },
        { name: 'guard search: one day (yesterday), first 200', target: 100, run: (s) => guardSearch(s, { ...last, limit: 200 }) },
        { name: 'guard search: one day, next page', target: 100, run: (s, side) => guardSearch(s, { ...day, limit: 200, beforeSeq: firstPageEnd[side] }) },
        { name: 'guard search: one day, one lane', target: 100, run: (s) => guardSearch(s, { ...day, lane: 'in-2', limit: 200 }) },
        { name: 'guard search: one day, refused', target: 100, run: (s) => guardSearch(s, { ...day, outcome: 'refuse', limit: 200 }) },
        { name: 'guard search: one day, staff badges', target: 100, run: (s) => guardSearch(s, { ...day, credential: 'staff-badge', limit: 200 }) },
        { name: 'guard search: one day, a name', target: 100, run: (s) => guardSearch(s, { ...day, subjectMatch: subject(someone.name), limit: 200 }) },
        { name: 'guard search: one day, a staff id', target: 100, run: (s) => guardSearch(s, { ...day, subjectMatch: subject(someone.staffId), limit: 200 }) },
        { name: 'guard search: latest 50 (console opens)', target: 100, run: (s) => guardSearch(s, { limit: 50 }) },
        { name: 'guard search: a staff id, no dates (old full scan)', runs: 1, run: (s) => guardSearch(s, { subjectMatch: subject(someone.staffId), limit: 200 }) },
        { name: 'guard search: a name in no row, no dates (old)', runs: 1, run: (s) => guardSearch(s, { subjectMatch: subject(nobody), limit: 200 }) },
        { name: `guard page, no dates: a staff id`, target: 100, run: (s) => guardPage(s, { subjectMatch: subject(someone.staffId), limit: 200 }, names) },
        { name: `guard page, no dates: a surname (${frequent}, frequent)`, target: 100, run: (s) => guardPage(s, { subjectMatch: subject(frequent), limit: 200 }, names) },
        { name: `guard page, no dates: a full name (rare)`, target: 100, run: (s) => guardPage(s, { subjectMatch: subject(rare), limit: 200 }, names) },
        { name: 'guard page, no dates: a name in no row', target: 100, run: (s) => guardPage(s, { subjectMatch: subject(nobody), limit: 200 }, names) },
        { name: 'guard page, no dates: no row, 10th "search older"', target: 100, run: (s) => guardPage(s, { subjectMatch: subject(nobody), limit: 200, beforeSeq: Math.max(1, s.lastSeq() - 10 * scanRows) }, names) },
        { name: 'guard page: one day, a name (whole)', target: 100, run: (s) => guardPage(s, { ...day, subjectMatch: subject(someone.name), limit: 200 }, names) },
        { name: 'guard page: 40 days, a full name (budgeted)', target: 100, run: (s) => guardPage(s, { subjectMatch: subject(rare), from: full.to - 40 * DAY_MS, to: full.to, limit: 200 }, names) },
        { name: 'guard CSV export: one day (all rows)', runs: 3, run: (s) => csvExport(s, day) },
        { name: "today's counts (/guard/stats, one day by hour)", target: 100, run: (s) => s.ledgerHourly(day.from, day.to) },
        { name: 'expected visitor: arrived today? (/guard/expected)', target: 100, run: (s) => s.queryEvents({ subjectRef: someone.ref, outcome: 'admit', ...day, limit: 1 }) },
        { name: 'daily screening report: one day', target: 1000, runs: 5, run: (s) => screeningReport(s, screeningDayOf(mid), pseudonym) },
        { name: 'policy replay: one day', runs: 3, run: (s) => replayLedger(s, MINE_ENTRANCE, day) },
      ];
      const perPassage: Case[] = [
        { name: 'anti-passback: zone facts of a person', runs: 2000, run: (s) => s.zoneFacts(CANTEEN.id, someone.ref) },
        { name: 'zone count', runs: 2000, run: (s) => s.zoneFacts(CANTEEN.id, null) },
        { name: "zone's last 5 corrections (console)", runs: 2000, run: (s) => s.zoneCorrections(CANTEEN.id, 5) },
        { name: "vehicle rule: a plate's goods today", runs: 2000, run: (s) => s.vehicleGoods(driver.plate!, last.from, last.to) },
      ];

      console.log(`\nreads (ms; ${REPEAT} runs a side unless fewer, alternating; mid day ${new Date(mid).toISOString().slice(0, 10)}):`);
      console.log(`${'what'.padEnd(52)} ${'empty'.padStart(8)} ${'full p50'.padStart(8)} ${'max'.padStart(8)} ${'1st'.padStart(8)} runs  target`);
      for (const c of [...cases, ...perPassage]) printCase(c, timeCase(c, stores));

      // The guard clicking "search older" until names were searched through the whole personal-data window.
      for (const [what, v] of [['a name in no row', nobody], ['a full name (rare)', rare]] as const) {
        const times: number[] = [];
        const t = performance.now();
        const [pages, rows] = guardWalk(stores.full, { subjectMatch: subject(v), limit: 200 }, names, times);
        const sorted = [...times].sort((a, b) => a - b);
        console.log(
          `guard walk, no dates, ${what}: ${pages} requests (${scanRows.toLocaleString('en')} rows each for names), ${rows} rows, ${((performance.now() - t) / 1000).toFixed(1)} s in all; per request p50 ${ms(percentile(sorted, 50))} max ${ms(sorted.at(-1) ?? Number.NaN)} ms`,
        );
      }

      const decide = await decideLatencies(stores);
      const s = (xs: number[]) => [...xs].sort((a, b) => a - b);
      const [e, f] = [s(decide.empty), s(decide.full)];
      const ratio = (p: number) => (percentile(f, p) / percentile(e, p)).toFixed(2);
      console.log(`\ndecide (scan → decision → ledger → relay), ${PASSAGES} a side in alternating blocks of 100:`);
      console.log(`  empty p50 ${ms(percentile(e, 50))} p99 ${ms(percentile(e, 99))}   full p50 ${ms(percentile(f, 50))} p99 ${ms(percentile(f, 99))}   full/empty p50 ${ratio(50)}× p99 ${ratio(99)}×  (target within 1.2×)`);
      const st = (xs: number[]) => `${ms(percentile(s(xs), 50))} (${xs.map((x) => x.toFixed(0)).join(', ')})`;
      console.log(`\nlater starts, spawn → "ready" (ms, p50 and each run): empty ${st(starts.empty)}; full ${st(starts.full)}`);
    } finally {
      stores.empty.close();
      stores.full.close();
    }

    console.log('\nquery plans on the full ledger (SCAN = reads the whole table):');
    const base = 'seq, at, lane, subject_name';
    const guard = (p: Omit<QueryParams, 'limit'>) => ledgerQuerySql(base, { ...p, limit: 200 });
    const plans: [string, string][] = [
      ['guard search: one day', guard({ from: 1, to: 2 })],
      ['guard search: one day, next page', guard({ from: 1, to: 2, beforeSeq: 1 })],
      ['guard search: one day, one lane', guard({ from: 1, to: 2, lane: 'x' })],
      ['guard search: one day, refused', guard({ from: 1, to: 2, outcome: 'refuse' })],
      ['guard search: one day, staff badges', guard({ from: 1, to: 2, credential: 'x' })],
      ['guard search: one day, name or id', guard({ from: 1, to: 2, matchRef: 'x', matchName: 'y' })],
      ['guard search: name or id, no dates (old)', guard({ matchRef: 'x', matchName: 'y' })],
      ['guard page: names, a window of rows', searchNamesSql('')],
      ['guard page: the pseudonym, whole ledger', searchRefsSql('')],
      ['expected visitor', guard({ subjectRef: 'x', outcome: 'admit', from: 1, to: 2 })],
      ["today's counts", HOURLY_SQL],
      ['daily screening (first passages)', FIRST_PASSAGES_SQL],
      ['policy replay', REPLAY_SQL],
      ['vehicle rule', VEHICLE_GOODS_SQL],
    ];
    const db = new Database(path.join(fullDir, DATABASE_FILE), { readonly: true });
    try {
      for (const [what, sql] of plans) console.log(`  ${what.padEnd(36)} ${planOf(db, sql)}`);
    } finally {
      db.close();
    }
    console.log(`\nwhole growth bench ${((performance.now() - t0) / 1000).toFixed(0)} s; load average at end ${load()}`);
  } finally {
    rmSync(fullDir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLedgerGrowth();
