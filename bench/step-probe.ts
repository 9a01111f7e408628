// Why a retention step took over 1 ms (bench/ledger-retention.ts): a probe read just before
// and just after each step, outside its timed window. Per step it notes:
// - the main thread's own CPU time and run-queue wait, from /proc/self/task/<pid>/schedstat
//   (nanoseconds; the process's CPU figure holds the checkpoint worker and V8's helpers);
//   wall − CPU − run-queue wait is time off-CPU asleep (a read from disk, a lock, writeback);
// - the main thread's minor/major page faults and voluntary/involuntary context switches
//   (/proc/self/task/<pid>/stat and status), and the process's (process.resourceUsage());
// - the time spent in each kind of SQL statement (reads, writes, BEGIN/COMMIT, PRAGMA):
//   better-sqlite3's Statement methods are wrapped while the probe is on;
// - the WAL as the wal-index (-shm) states it: frames (mxFrame, byte 16) and frames copied
//   back (nBackfill, byte 96) at the start and end, and whether the checkpoint worker
//   finished a checkpoint meanwhile;
// - the main-thread GC pauses (PerformanceObserver 'gc' entries) that overlap it.
import { closeSync, openSync, readSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';

export interface StepSample {
  phase: string;
  batch: number;
  start: number;
  wall: number;
  cpuProcess: number;
  cpuThread: number;
  runq: number;
  minflt: number;
  majflt: number;
  vcsw: number;
  ivcsw: number;
  processVcsw: number;
  processIvcsw: number;
  processMajflt: number;
  sql: { read: number; write: number; commit: number; begin: number; pragma: number };
  walFrames: number;
  walBackfilled: number;
  walFramesAfter: number;
  backfillMoved: boolean;
  workerCheckpointEnded: boolean;
  gc: number;
  gcMajor: boolean;
}

interface Mark {
  t: number;
  cpuProcess: number;
  cpuThread: number;
  runq: number;
  minflt: number;
  majflt: number;
  vcsw: number;
  ivcsw: number;
  ru: NodeJS.ResourceUsage;
  frames: number;
  backfill: number;
  workerCheckpoints: number;
}

type SqlKind = keyof StepSample['sql'];

export class StepProbe {
  readonly samples: StepSample[] = [];
  readonly #gc: { start: number; end: number; kind: number }[] = [];
  readonly #obs: PerformanceObserver;
  readonly #fds: { schedstat: number; stat: number; status: number; shm: number };
  readonly #buf = Buffer.alloc(4096);
  readonly #sql: StepSample['sql'] = { read: 0, write: 0, commit: 0, begin: 0, pragma: 0 };
  #on = false;
  #mark: Mark | null = null;
  readonly #unwrap: () => void;

  constructor(
    shmFile: string,
    readonly workerCheckpoints: () => number,
  ) {
    const task = `/proc/self/task/${process.pid}`;
    this.#fds = { schedstat: openSync(`${task}/schedstat`, 'r'), stat: openSync(`${task}/stat`, 'r'), status: openSync(`${task}/status`, 'r'), shm: openSync(shmFile, 'r') };
    this.#obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.#gc.push({ start: e.startTime, end: e.startTime + e.duration, kind: ((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? 0 });
    });
    this.#obs.observe({ entryTypes: ['gc'] });
    this.#unwrap = this.#wrapStatements();
  }

  /** Wraps Statement#run/get/all (one prototype for every connection) to time each kind of statement inside a step. */
  #wrapStatements(): () => void {
    const mem = new Database(':memory:');
    const proto = Object.getPrototypeOf(mem.prepare('SELECT 1')) as Record<'run' | 'get' | 'all', (...a: unknown[]) => unknown>;
    mem.close();
    const kinds = new Map<string, SqlKind>();
    const kindOf = (source: string): SqlKind => {
      let k = kinds.get(source);
      if (k === undefined) {
        const s = source.trimStart().toUpperCase();
        k = s.startsWith('SELECT') ? 'read' : s.startsWith('COMMIT') || s.startsWith('RELEASE') ? 'commit' : s.startsWith('BEGIN') || s.startsWith('SAVEPOINT') ? 'begin' : s.startsWith('PRAGMA') ? 'pragma' : 'write';
        kinds.set(source, k);
      }
      return k;
    };
    const originals = { run: proto.run, get: proto.get, all: proto.all };
    for (const m of ['run', 'get', 'all'] as const) {
      const orig = originals[m];
      const probe = this;
      proto[m] = function (this: { source: string }, ...args: unknown[]): unknown {
        if (!probe.#on) return orig.apply(this, args);
        const t = performance.now();
        try {
          return orig.apply(this, args);
        } finally {
          probe.#sql[kindOf(this.source)] += performance.now() - t;
        }
      };
    }
    return () => Object.assign(proto, originals);
  }

  #read(fd: number): string {
    const n = readSync(fd, this.#buf, 0, this.#buf.length, 0);
    return this.#buf.toString('latin1', 0, n);
  }

  #now(): Mark {
    const [cpu = '0', runq = '0'] = this.#read(this.#fds.schedstat).split(' ');
    const stat = this.#read(this.#fds.stat);
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const status = this.#read(this.#fds.status);
    const num = (re: RegExp): number => Number(re.exec(status)?.[1] ?? 0);
    readSync(this.#fds.shm, this.#buf, 0, 100, 0);
    const u = process.cpuUsage();
    return {
      t: performance.now(),
      cpuProcess: (u.user + u.system) / 1000,
      cpuThread: Number(cpu) / 1e6,
      runq: Number(runq) / 1e6,
      minflt: Number(f[7]),
      majflt: Number(f[9]),
      vcsw: num(/^voluntary_ctxt_switches:\s+(\d+)/m),
      ivcsw: num(/^nonvoluntary_ctxt_switches:\s+(\d+)/m),
      ru: process.resourceUsage(),
      frames: this.#buf.readUInt32LE(16),
      backfill: this.#buf.readUInt32LE(96),
      workerCheckpoints: this.workerCheckpoints(),
    };
  }

  /** Just before a step. */
  begin(): void {
    this.#mark = this.#now();
    for (const k of Object.keys(this.#sql) as SqlKind[]) this.#sql[k] = 0;
    this.#on = true;
  }

  /** Just after it: `wall` is the job's own measure of the step. */
  end(phase: string, batch: number, wall: number): void {
    this.#on = false;
    const a = this.#mark;
    if (a === null) return;
    const b = this.#now();
    this.samples.push({
      phase,
      batch,
      start: a.t,
      wall,
      cpuProcess: b.cpuProcess - a.cpuProcess,
      cpuThread: b.cpuThread - a.cpuThread,
      runq: b.runq - a.runq,
      minflt: b.minflt - a.minflt,
      majflt: b.majflt - a.majflt,
      vcsw: b.vcsw - a.vcsw,
      ivcsw: b.ivcsw - a.ivcsw,
      processVcsw: b.ru.voluntaryContextSwitches - a.ru.voluntaryContextSwitches,
      processIvcsw: b.ru.involuntaryContextSwitches - a.ru.involuntaryContextSwitches,
      processMajflt: b.ru.majorPageFault - a.ru.majorPageFault,
      sql: { ...this.#sql },
      walFrames: a.frames,
      walBackfilled: a.backfill,
      walFramesAfter: b.frames,
      backfillMoved: b.backfill !== a.backfill,
      workerCheckpointEnded: b.workerCheckpoints !== a.workerCheckpoints,
      gc: 0,
      gcMajor: false,
    });
    this.#mark = null;
  }

  /** Matches the GC pauses seen so far to the steps they overlap (the observer reports them after the fact). */
  settleGc(): void {
    const gc = [...this.#gc].sort((x, y) => x.start - y.start);
    for (const s of this.samples) {
      const end = s.start + s.wall + 0.05;
      let ms = 0;
      for (const g of gc) {
        if (g.start > end) break;
        const o = Math.min(end, g.end) - Math.max(s.start, g.start);
        if (o > 0) {
          ms += o;
          if (g.kind !== 1) s.gcMajor = true;
        }
      }
      s.gc = ms;
    }
  }

  close(): void {
    this.#obs.disconnect();
    this.#unwrap();
    for (const fd of Object.values(this.#fds)) closeSync(fd);
  }
}

/**
 * The cause of a step over `limit` ms, the largest share of its time:
 * - "waited for a core": the main thread was runnable but not running (other processes on the 2 cores);
 * - "asleep off-CPU": blocked in the kernel (disk read, writeback, a lock) — wall − CPU − run-queue wait;
 * - "GC": a main-thread GC pause overlapped it;
 * - "own CPU: <phase>": the step's own work, by the statement kind that took longest.
 */
export function causeOf(s: StepSample, limit = 1): string {
  const sleep = Math.max(0, s.wall - s.cpuThread - s.runq);
  // Under the limit but for the time it waited for a core: the machine, whatever else it did.
  if (s.wall - s.runq <= limit) return `waited for a core (run queue)${s.walFrames >= 16_384 || s.walFramesAfter >= 16_384 ? ' [WAL at bound]' : ''}`;
  const own = Math.max(0, s.cpuThread - s.gc);
  const parts: [string, number][] = [
    ['waited for a core (run queue), and over without it', s.runq],
    ['asleep off-CPU (I/O, lock)', sleep],
    ['GC pause', s.gc],
    ['own CPU', own],
  ];
  parts.sort((x, y) => y[1] - x[1]);
  let cause = parts[0]![0];
  if (cause === 'own CPU') {
    const phases = Object.entries(s.sql).sort((x, y) => y[1] - x[1]);
    const sqlMs = phases.reduce((t, [, v]) => t + v, 0);
    const js = s.wall - sqlMs;
    const top = phases[0]!;
    cause = `own CPU: ${js > top[1] ? 'JS outside SQL' : `${top[0]} statements`}`;
  }
  if (s.walFrames >= 16_384 || s.walFramesAfter >= 16_384) cause += ' [WAL at bound]';
  return cause;
}

const med = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const f3 = (x: number): string => x.toFixed(2);

/** The table of causes for one phase's steps over `limit` ms. */
export function causeTable(samples: StepSample[], limit = 1): string[] {
  const slow = samples.filter((s) => s.wall > limit);
  const lines: string[] = [];
  lines.push(`  steps over ${limit} ms: ${slow.length} of ${samples.length} (${((slow.length / Math.max(1, samples.length)) * 100).toFixed(2)} %)`);
  if (slow.length === 0) return lines;
  const by = new Map<string, StepSample[]>();
  for (const s of slow) {
    const c = causeOf(s, limit);
    by.set(c, [...(by.get(c) ?? []), s]);
  }
  lines.push(`    ${'cause'.padEnd(46)} ${'n'.padStart(5)}  wall med/max   thread CPU med  runq med  sleep med  GC med  SQL r/w/commit med   WAL frames med  ckpt in step  ivcsw med  majflt`);
  for (const [c, ss] of [...by.entries()].sort((x, y) => y[1].length - x[1].length)) {
    lines.push(
      `    ${c.padEnd(46)} ${String(ss.length).padStart(5)}  ${f3(med(ss.map((s) => s.wall)))}/${f3(ss.reduce((m, s) => Math.max(m, s.wall), 0)).padEnd(7)} ${f3(med(ss.map((s) => s.cpuThread))).padStart(14)}  ${f3(med(ss.map((s) => s.runq))).padStart(8)}  ${f3(med(ss.map((s) => Math.max(0, s.wall - s.cpuThread - s.runq)))).padStart(9)}  ${f3(med(ss.map((s) => s.gc))).padStart(6)}  ${`${f3(med(ss.map((s) => s.sql.read)))}/${f3(med(ss.map((s) => s.sql.write)))}/${f3(med(ss.map((s) => s.sql.commit)))}`.padStart(18)}   ${String(med(ss.map((s) => s.walFrames))).padStart(14)}  ${String(ss.filter((s) => s.backfillMoved).length).padStart(12)}  ${String(med(ss.map((s) => s.ivcsw))).padStart(9)}  ${ss.reduce((t, s) => t + s.majflt, 0)}`,
    );
  }
  // A commit that starts the WAL over writes and fsyncs its header first (SQLite does so
  // whatever the synchronous level), flushing the WAL's dirty pages: how much of the tail is that?
  const restarted = (s: StepSample): boolean => s.walFramesAfter < s.walFrames;
  const share = (ss: StepSample[]): string => `${ss.filter((s) => s.wall > limit).length} of ${ss.length} over ${limit} ms`;
  lines.push(`    steps that started the WAL over: ${share(samples.filter(restarted))}; the others: ${share(samples.filter((s) => !restarted(s)))}`);
  // The slowest few in full.
  for (const s of [...slow].sort((x, y) => y.wall - x.wall).slice(0, 5)) {
    lines.push(
      `    slowest: wall ${f3(s.wall)} thread CPU ${f3(s.cpuThread)} runq ${f3(s.runq)} GC ${f3(s.gc)}${s.gcMajor ? ' (major)' : ''} SQL read ${f3(s.sql.read)} write ${f3(s.sql.write)} commit ${f3(s.sql.commit)} pragma ${f3(s.sql.pragma)} | WAL ${s.walFrames}→${s.walFramesAfter} backfilled ${s.walBackfilled}${s.backfillMoved ? ' moved' : ''}${s.workerCheckpointEnded ? ' worker-ckpt' : ''} | csw ${s.vcsw}v/${s.ivcsw}i minflt ${s.minflt} majflt ${s.majflt}`,
    );
  }
  return lines;
}

/** Share of steps over `limit` by the WAL's size at their start. */
export function walBuckets(samples: StepSample[], limit = 1): string {
  const edges = [0, 1000, 4096, 8192, 16_384, Infinity];
  const parts: string[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const ss = samples.filter((s) => s.walFrames >= edges[i]! && s.walFrames < edges[i + 1]!);
    if (ss.length === 0) continue;
    const over = ss.filter((s) => s.wall > limit).length;
    parts.push(`${edges[i]}–${edges[i + 1] === Infinity ? '' : edges[i + 1]}: ${over}/${ss.length} (${((over / ss.length) * 100).toFixed(2)} %) wall p50 ${f3(med(ss.map((s) => s.wall)))}`);
  }
  const restarts = samples.filter((s) => s.walFramesAfter < s.walFrames).length;
  const atBound = samples.filter((s) => s.walFramesAfter >= 16_384).length;
  return `  by WAL frames at the step's start: ${parts.join(' · ')}\n  steps that started the WAL over: ${restarts}; steps that ended with the WAL at the bound (16 384 frames): ${atBound}; WAL frames at step start p50/max ${med(samples.map((s) => s.walFrames))}/${samples.reduce((m, s) => Math.max(m, s.walFrames), 0)}`;
}
