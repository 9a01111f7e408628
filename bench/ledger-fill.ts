// A large mine's ledger, written fast: ~60 000 passages a day around three shift changes
// and the canteen's lunch hours, at entry, exit, canteen and vehicle lanes, with
// decisions, timeouts, faults and guard overrides, the refusals and referrals a policy
// gives (each template's outcome and reasons come from decide() itself), evaluated facts
// for policy replay, names and plates behind real salted commitments, and every row linked
// into the hash chain exactly as the store links it (`ledger verify` passes). Plus the
// roster the daily screening report reads and the canteen zone's presence and daily
// resets.
//
// Speed: the rows go in through prepared statements, 20 000 per transaction, with the
// ledger's secondary indexes dropped during the fill and rebuilt after (one sort each
// instead of 10 million B-tree inserts) and no journal while filling (a half-built file is
// never used: it is built under a temporary name and renamed when complete).
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { commitPersonal, ledgerContent, linkHash, zoneCorrectionContent, type Columns } from '../gateway/store/chain.js';
import { DATABASE_FILE, MIGRATIONS, openStore, type RosterEntry } from '../gateway/store/index.js';
import { MINE_ENTRANCE } from '../gateway/policy/profiles.js';
import { replayVerdict } from '../gateway/policy/replay.js';
import { overrideReason, reason } from '../gateway/policy/reasons.js';
import { DAY_MS, LOCAL_OFFSET_MS } from '../gateway/policy/time.js';
import type { Category } from '../gateway/credentials/types.js';
import type { Decision, EvaluatedFacts } from '../gateway/policy/types.js';
import { pseudonymizer } from '../gateway/telemetry/pseudonym.js';
import { seededRandom } from '../drivers/scanner/sim-base.js';

/** Bump when the rows written change: cached files of another version are not reused. */
export const FILL_VERSION = 2; // 2: ids are UUID version 7, as the lane writes them
export const ROWS_PER_DAY = 60_000;
/** The site secret the rows' pseudonyms are keyed with (the screening report needs the same). */
export const FILL_SECRET = Buffer.alloc(32, 7);
export const FILL_PROFILE_HASH = 'b'.repeat(64);
export const CANTEEN = { id: 'canteen', limit: 400, antiPassback: 'hard' as const, windowMinutes: null };
export const WORKERS = 12_000;
const OTHERS = 3_000;
const BATCH = 20_000;

export const LANES = {
  in: ['in-1', 'in-2', 'in-3', 'in-4'],
  out: ['out-1', 'out-2', 'out-3', 'out-4'],
  canteenIn: 'canteen-in',
  canteenOut: 'canteen-out',
  vehicle: 'vehicle-1',
} as const;

export interface FillResult {
  dir: string;
  rows: number;
  days: number;
  /** Epoch ms of the first local day's start and of the day after the last. */
  from: number;
  to: number;
  /** True when an earlier run's file was reused. */
  cached: boolean;
  ms: number;
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强永红海燕春梅小龙文斌立新晓东玉兰';

export interface Person {
  staffId: string;
  name: string;
  category: Category;
  ref: string;
  plate: string | null;
}

/** Workers (in the roster) first, then visitors, vendors and drivers. */
export function people(): Person[] {
  const rnd = seededRandom(1);
  const pseudonym = pseudonymizer(FILL_SECRET);
  const out: Person[] = [];
  for (let i = 0; i < WORKERS + OTHERS; i++) {
    const worker = i < WORKERS;
    const category: Category = worker ? (rnd() < 0.85 ? 'employee' : 'contractor') : (['visitor', 'vendor', 'driver'] as const)[i % 3]!;
    const staffId = worker ? `W${String(i + 1).padStart(6, '0')}` : `X${String(i + 1).padStart(6, '0')}`;
    const name = SURNAMES[Math.floor(rnd() * SURNAMES.length)]! + GIVEN[Math.floor(rnd() * GIVEN.length)]! + (rnd() < 0.6 ? GIVEN[Math.floor(rnd() * GIVEN.length)]! : '');
    out.push({ staffId, name, category, ref: pseudonym(staffId), plate: category === 'driver' ? `晋A${String(10000 + i).slice(-5)}` : null });
  }
  return out;
}

const iso = (ms: number): string => new Date(ms + LOCAL_OFFSET_MS).toISOString().replace('Z', '+08:00').replace(/\.\d{3}/, '');

type Shape = 'green' | 'badge' | 'crew' | 'visitor' | 'noApproval' | 'fever' | 'yellow' | 'testOld' | 'passExpired' | 'watchlist' | 'vehicle' | 'vehicleWrongGoods';

/** The facts decide() evaluated for a passage of this shape at `now` (what the ledger keeps). */
function factsOf(shape: Shape, personCategory: Category, now: number, celsius: number): EvaluatedFacts {
  const category = shape === 'visitor' || shape === 'noApproval' ? 'visitor' : shape.startsWith('vehicle') ? 'driver' : shape === 'crew' ? 'contractor' : personCategory;
  const health = {
    healthCode: shape === 'yellow' ? ('yellow' as const) : ('green' as const),
    travel: { riskLevel: 'none' as const, visits: shape === 'crew' ? [{ region: '山西省大同市', from: iso(now - 5 * DAY_MS).slice(0, 10), to: iso(now - 4 * DAY_MS).slice(0, 10) }] : [], asOf: iso(now - 3_600_000) },
    test: { result: 'negative' as const, sampledAt: iso(now - (shape === 'testOld' ? 80 : 20) * 3_600_000) },
  };
  const f: EvaluatedFacts = {
    v: 1,
    now,
    credential:
      shape === 'passExpired'
        ? { ok: false, kind: 'health-pass', code: 'PASS_EXPIRED' }
        : { ok: true, kind: shape === 'badge' ? 'staff-badge' : 'health-pass', category, health },
    // A fever is re-measured before the refusal: two readings.
    readings: shape === 'passExpired' ? [] : shape === 'fever' ? [{ celsius, at: now - 9000 }, { celsius, at: now - 700 }] : [{ celsius, at: now - 700 }],
    watchlist: shape === 'watchlist' ? [{ kind: 'close-contact', from: iso(now - 2 * DAY_MS).slice(0, 10), until: null }] : [],
    approvals: shape === 'visitor' ? [{ validFrom: iso(now - 13 * 3_600_000), validUntil: iso(now + 13 * 3_600_000) }] : [],
    riskAreas: [],
  };
  if (category === 'contractor') f.crews = [{ validFrom: iso(now - 10 * DAY_MS).slice(0, 10), validUntil: iso(now + 20 * DAY_MS).slice(0, 10), itinerary: [{ region: '山西省大同市', from: iso(now - 5 * DAY_MS).slice(0, 10), to: iso(now - 4 * DAY_MS).slice(0, 10) }] }];
  if (shape === 'vehicle' || shape === 'vehicleWrongGoods') f.vehicle = { goods: shape === 'vehicle' ? 'coal' : 'furniture', driverMatches: true, goodsToday: [] };
  return f;
}

/** Shapes by weight: mostly green admissions, the refusals and referrals a mine sees. */
const SHAPES: [Shape, number][] = [
  ['green', 0.78],
  ['badge', 0.1],
  ['crew', 0.04],
  ['visitor', 0.015],
  ['noApproval', 0.004],
  ['fever', 0.004],
  ['yellow', 0.008],
  ['testOld', 0.006],
  ['passExpired', 0.01],
  ['watchlist', 0.002],
];
const SHAPE_CUM = SHAPES.reduce<number[]>((acc, [, w]) => [...acc, (acc.at(-1) ?? 0) + w], []);
const SHAPE_TOTAL = SHAPE_CUM.at(-1)!;

/** Times of one local day's passages, sorted: 70 % around the shift changes (00:00, 08:00, 16:00), lunch and supper at the canteen, the rest spread out. */
function dayTimes(rnd: () => number, dayStart: number, n: number): { at: number; where: 'in' | 'out' | 'canteenIn' | 'canteenOut' | 'vehicle' }[] {
  const out: { at: number; where: 'in' | 'out' | 'canteenIn' | 'canteenOut' | 'vehicle' }[] = [];
  const gauss = (): number => (rnd() + rnd() + rnd() + rnd() - 2) * 1.2; // ~N(0, 0.7)
  for (let i = 0; i < n; i++) {
    const u = rnd();
    let offset: number;
    let where: (typeof out)[number]['where'];
    if (u < 0.6) {
      // Shift change: the outgoing shift leaves after, the incoming arrives before.
      const change = Math.floor(rnd() * 3) * 8 * 3_600_000;
      const entering = rnd() < 0.5;
      offset = change + (entering ? -1 : 1) * 1_200_000 + gauss() * 1_800_000;
      where = entering ? 'in' : 'out';
    } else if (u < 0.8) {
      const meal = rnd() < 0.6 ? 12 * 3_600_000 : 18 * 3_600_000;
      const entering = rnd() < 0.5;
      offset = meal + (entering ? -900_000 : 900_000) + gauss() * 1_200_000;
      where = entering ? 'canteenIn' : 'canteenOut';
    } else if (u < 0.83) {
      offset = 6 * 3_600_000 + rnd() * 14 * 3_600_000;
      where = 'vehicle';
    } else {
      offset = rnd() * DAY_MS;
      where = rnd() < 0.5 ? 'in' : 'out';
    }
    offset = ((Math.round(offset) % DAY_MS) + DAY_MS) % DAY_MS;
    out.push({ at: dayStart + offset, where });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Where a filled ledger of this size is kept between runs (BENCH_LEDGER_CACHE overrides the folder). */
export function fillCacheDir(rows: number): string {
  const base = process.env.BENCH_LEDGER_CACHE ?? path.join(tmpdir(), 'checkpoint-bench-ledger');
  return path.join(base, `v${FILL_VERSION}-s${FILL_SCHEMA}-${rows}`);
}

/** The schema the filled file is written at (migration 10, the chain): later migrations apply when a store opens it. */
export const FILL_SCHEMA = 10;

/** The local day span the fill covers: whole days ending with yesterday (China time). */
export function fillDays(rows: number, now = Date.now()): { days: number; from: number; to: number } {
  const days = Math.max(1, Math.ceil(rows / ROWS_PER_DAY));
  const today = Math.floor((now + LOCAL_OFFSET_MS) / DAY_MS) * DAY_MS - LOCAL_OFFSET_MS;
  return { days, from: today - days * DAY_MS, to: today };
}

/**
 * A filled ledger of `rows` rows in its cache folder (built once per generator version,
 * schema and size; later calls return it at once). Callers that write to it work on a copy.
 */
export function filledLedger(rows: number, log: (s: string) => void = () => undefined): FillResult {
  const dir = fillCacheDir(rows);
  const span = fillDays(rows);
  if (existsSync(path.join(dir, DATABASE_FILE))) {
    const db = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
    const meta = db.prepare("SELECT value FROM meta WHERE key = 'bench.fill'").get() as { value: string } | undefined;
    db.close();
    if (meta) {
      const m = JSON.parse(meta.value) as { from: number; to: number; days: number };
      return { dir, rows, days: m.days, from: m.from, to: m.to, cached: true, ms: 0 };
    }
  }
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const t = performance.now();
  fillLedger(partial, rows, span, log);
  const ms = performance.now() - t;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  renameSync(partial, dir);
  return { dir, rows, ...span, cached: false, ms };
}

/** Writes `rows` passages over `span` into a new store in `dir` (schema FILL_SCHEMA). */
export function fillLedger(dir: string, rows: number, span: { days: number; from: number; to: number }, log: (s: string) => void = () => undefined): void {
  const crowd = people();
  const workers = crowd.slice(0, WORKERS);
  const others = crowd.slice(WORKERS);
  const store = openStore(dir, { migrations: MIGRATIONS.slice(0, FILL_SCHEMA), now: () => span.from - DAY_MS });
  const roster: RosterEntry[] = workers.map((p) => ({
    staffId: p.staffId,
    name: p.name,
    category: p.category,
    health: { healthCode: 'green' },
    active: true,
    updatedAt: span.from - DAY_MS,
  }));
  store.rosterUpsert(roster);
  store.close();

  const db = new Database(path.join(dir, DATABASE_FILE));
  db.pragma('journal_mode = DELETE');
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144'); // 256 MB while filling
  const indexes = db
    .prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger' AND sql IS NOT NULL")
    .all();
  for (const ix of indexes) db.exec(`DROP INDEX ${ix.name}`);

  const cols = [
    'seq', 'id', 'at', 'lane', 'kind', 'outcome', 'reasons', 'alerts', 'credential', 'subject_ref', 'subject_name', 'category', 'temperature',
    'actor', 'note', 'profile', 'profile_hash', 'facts', 'approver', 'approval_key', 'responsible', 'crew_id', 'plate', 'goods',
    'person_salt', 'person_commit', 'health_salt', 'health_commit',
  ] as const;
  const insertLedger = db.prepare(`INSERT INTO ledger (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const insertChain = db.prepare('INSERT INTO chain (seq, kind, ref, at, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertCorrection = db.prepare("INSERT INTO zone_corrections (zone, at, guard, from_count, to_count, reason) VALUES (?, ?, 'system', ?, 0, ?)");
  const head = db.prepare<[], { seq: number; hash: Buffer }>('SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1').get();
  if (!head) throw new Error('fill: no genesis row');
  let chainSeq = head.seq;
  let prev = head.hash;
  let seq = 0;

  const link = (kind: string, ref: number, at: number, content: Buffer): void => {
    chainSeq += 1;
    const hash = linkHash({ seq: chainSeq, kind, ref, at, prev, content });
    insertChain.run(chainSeq, kind, ref, at, null, prev, hash);
    prev = hash;
  };

  const rnd = seededRandom(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  // Each shape's outcome, reasons and alerts come from decide() once per day (at noon),
  // and its facts' JSON is made once per day too, with the time and readings filled in per row.
  interface Template {
    outcome: Decision['outcome'];
    reasons: string;
    alerts: string;
    credential: string;
    category: string | null;
    /** The facts' JSON around "now" and "readings". */
    parts: [string, string, string];
  }
  let templates = new Map<string, Template>();
  let noon = 0;
  const templateOf = (shape: Shape, category: Category): Template => {
    const key = `${shape}|${category}`;
    let t = templates.get(key);
    if (t) return t;
    const facts = factsOf(shape, category, noon, 36.5);
    const v = replayVerdict(facts, MINE_ENTRANCE);
    if (v.outcome === 'measure') throw new Error(`fill: shape ${shape} asks for another reading`);
    const json = JSON.stringify({ ...facts, readings: [] });
    const [head, rest] = json.split(`"now":${noon},`);
    const [middle, tail] = (rest ?? '').split('"readings":[]');
    if (head === undefined || middle === undefined || tail === undefined) throw new Error('fill: facts template');
    t = {
      outcome: v.outcome,
      reasons: JSON.stringify(v.reasons),
      alerts: JSON.stringify(v.alerts),
      credential: facts.credential.kind,
      category: facts.credential.ok ? facts.credential.category : null,
      parts: [`${head}"now":`, `,${middle}"readings":`, tail],
    };
    templates.set(key, t);
    return t;
  };
  const antiPassback = JSON.stringify([reason('ANTI_PASSBACK')]);
  const override = overrideReason('OVERRIDE_IDENTITY_VERIFIED');
  const overrideReasons = JSON.stringify([override]);
  const overrideAlerts = JSON.stringify([{ kind: 'override', severity: 'warning', code: override.code }]);
  const timeoutReasons = JSON.stringify([reason('TEMP_TIMEOUT')]);
  const faultReasons = JSON.stringify([reason('RELAY_FAILED')]);
  const faultAlerts = JSON.stringify([{ kind: 'device', severity: 'critical', code: 'RELAY_FAILED' }]);
  const inside = new Map<string, number>();
  let canteenCount = 0;
  const t0 = performance.now();

  // The canteen's daily resets (00:00 and 14:00), linked into the chain as the reset schedule does.
  let resets: number[] = [];
  const reset = (resetAt: number): void => {
    const id = Number(insertCorrection.run(CANTEEN.id, resetAt, canteenCount, 'scheduled reset').lastInsertRowid);
    link('zone-correction', id, resetAt, zoneCorrectionContent({ zone: CANTEEN.id, at: resetAt, guard: 'system', from_count: canteenCount, to_count: 0, reason: 'scheduled reset' }));
    canteenCount = 0;
    inside.clear();
  };

  const writeDay = db.transaction((rowsToday: { at: number; where: string }[], from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const { at, where } = rowsToday[i]!;
      while (resets.length > 0 && resets[0]! <= at) reset(resets.shift()!);
      seq += 1;
      const u = rnd();
      const vehicle = where === 'vehicle';
      const lane = where === 'in' ? pick(LANES.in) : where === 'out' ? pick(LANES.out) : where === 'canteenIn' ? LANES.canteenIn : where === 'canteenOut' ? LANES.canteenOut : LANES.vehicle;
      const p = vehicle ? others[3 * Math.floor(rnd() * (OTHERS / 3)) + 2]! : rnd() < 0.95 ? pick(workers) : pick(others);
      const row: Record<(typeof cols)[number], string | number | Buffer | null> = {
        seq, id: uuidv7({ msecs: at }), at, lane, kind: 'decision', outcome: 'admit', reasons: '[]', alerts: '[]', credential: 'health-pass',
        subject_ref: p.ref, subject_name: p.name, category: p.category, temperature: null,
        actor: null, note: null, profile: null, profile_hash: null, facts: null, approver: null, approval_key: null, responsible: null, crew_id: null, plate: null, goods: null,
        person_salt: null, person_commit: null, health_salt: null, health_commit: null,
      };
      if (u < 0.002) {
        row.kind = 'override';
        row.reasons = overrideReasons;
        row.alerts = overrideAlerts;
        row.credential = 'unknown';
        row.subject_ref = row.subject_name = row.category = null;
        row.actor = `G-0${1 + Math.floor(rnd() * 6)}`;
        row.note = '本人身份已核实，证件过期';
      } else if (u < 0.02) {
        const timeout = u < 0.017;
        row.kind = timeout ? 'timeout' : 'fault';
        row.outcome = 'refer';
        row.reasons = timeout ? timeoutReasons : faultReasons;
        if (!timeout) row.alerts = faultAlerts;
      } else {
        let shape: Shape;
        if (vehicle) shape = rnd() < 0.97 ? 'vehicle' : 'vehicleWrongGoods';
        else if (p.category === 'visitor') shape = rnd() < 0.9 ? 'visitor' : 'noApproval';
        else {
          const w = rnd() * SHAPE_TOTAL;
          shape = SHAPES[SHAPE_CUM.findIndex((c) => w < c)]![0];
          if (shape === 'visitor' || shape === 'noApproval') shape = 'green';
          // Contractors come with their crew's registration; employees have none.
          if (p.category === 'contractor' && shape === 'green') shape = 'crew';
          else if (p.category !== 'contractor' && shape === 'crew') shape = 'green';
        }
        const t = templateOf(shape, p.category);
        const celsius = shape === 'fever' ? 37.9 : Math.round((36.1 + rnd() * 0.8) * 10) / 10;
        const canteen = where === 'canteenIn' || where === 'canteenOut';
        let outcome = t.outcome;
        let reasons = t.reasons;
        let zone = '';
        if (canteen) {
          const entry = where === 'canteenIn';
          const open = inside.get(p.ref) ?? null;
          zone = `,"zone":${JSON.stringify({ ...CANTEEN, direction: entry ? 'in' : 'out', count: canteenCount, openEntryAt: open })}`;
          if (entry && outcome === 'admit' && open !== null) {
            outcome = 'refuse';
            reasons = antiPassback;
          }
          if (outcome === 'admit') {
            if (entry) {
              inside.set(p.ref, at);
              canteenCount += 1;
            } else if (inside.delete(p.ref)) canteenCount = Math.max(0, canteenCount - 1);
          }
        }
        const readings = shape === 'passExpired' ? '[]' : shape === 'fever' ? `[{"celsius":${celsius},"at":${at - 9000}},{"celsius":${celsius},"at":${at - 700}}]` : `[{"celsius":${celsius},"at":${at - 700}}]`;
        const [a, b, c] = t.parts;
        row.outcome = outcome;
        row.reasons = reasons;
        row.alerts = t.alerts;
        row.credential = t.credential;
        row.category = t.category;
        row.profile = MINE_ENTRANCE.name;
        row.profile_hash = FILL_PROFILE_HASH;
        row.facts = zone === '' ? a + at + b + readings + c : a + at + b + readings + c.slice(0, -1) + zone + '}';
        if (shape === 'passExpired') row.subject_ref = row.subject_name = row.category = null;
        else row.temperature = celsius;
        if (vehicle) {
          row.plate = p.plate;
          row.goods = shape === 'vehicle' ? 'coal' : 'furniture';
        }
      }
      Object.assign(row, commitPersonal(row as Columns));
      insertLedger.run(cols.map((c) => row[c]));
      link('ledger', seq, at, ledgerContent(row as Columns));
    }
  });

  let written = 0;
  for (let d = 0; d < span.days && written < rows; d++) {
    const dayStart = span.from + d * DAY_MS;
    const n = Math.min(ROWS_PER_DAY, rows - written);
    const today = dayTimes(rnd, dayStart, n);
    templates = new Map();
    noon = dayStart + 12 * 3_600_000;
    resets = [dayStart, dayStart + 14 * 3_600_000];
    for (let from = 0; from < n; from += BATCH) writeDay(today, from, Math.min(n, from + BATCH));
    written += n;
    if ((d + 1) % 10 === 0 || written >= rows) {
      const s = (performance.now() - t0) / 1000;
      log(`  fill: ${written.toLocaleString('en')} rows, ${d + 1} days, ${s.toFixed(0)} s (${Math.round(written / s)} rows/s)`);
    }
  }

  // Who is in the canteen now, as the lanes left it; the count to match.
  const presence = db.prepare('INSERT OR REPLACE INTO zone_presence (zone, subject_ref, entered_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const [ref, at] of inside) presence.run(CANTEEN.id, ref, at);
    db.prepare('INSERT OR REPLACE INTO zone_counts (zone, count, updated_at) VALUES (?, ?, ?)').run(CANTEEN.id, canteenCount, span.to);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('bench.fill', ?)").run(JSON.stringify({ version: FILL_VERSION, rows, ...span }));
  })();
  const ti = performance.now();
  for (const ix of indexes) db.exec(ix.sql);
  log(`  fill: ${indexes.length} ledger indexes rebuilt in ${((performance.now() - ti) / 1000).toFixed(1)} s`);
  db.pragma('journal_mode = WAL');
  db.close();
}
