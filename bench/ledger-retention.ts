// Retention under load: a real SQLite ledger holding BENCH_RETENTION_ROWS (default 1 M)
// expired rows (bench/ledger-fill.ts: dated 400 days back, so past both
// privacy.personalDataDays and privacy.ledgerDays), and passages decided through the real
// lane (scan → decision → ledger → relay, as bench/decide.ts) while the retention job
// (gateway/retention.ts) works through the backlog in the same event loop:
//   baseline: passages with no job running (the same ledger, the same run);
//   erase:    passages while the job erases the personal fields of every expired row;
//   cut:      passages while it writes the checkpoint and deletes every expired row.
// Printed: decision p50/p99 each way (and of each, its ledger write: commit and fsync),
// each step's wall and CPU time (p50/p99/longest and
// how many took over 1 ms: the delay one step can add to a passage, to stay ≤ 1 ms), rows
// erased/deleted per second, and the WAL checkpoint worker's figures.
// The store runs as the gateway runs it: WAL checkpoints in a worker thread
// (BENCH_RETENTION_WORKER=off: inside the commits, SQLite's auto-checkpoint, as before).
// A step's CPU time is the process's (user + system): it holds whatever the checkpoint
// worker did on the other core meanwhile, so it is printed twice: all steps, and the steps
// no worker checkpoint finished during (the step's own cost).
// BENCH_RETENTION_BATCH="erase,delete" tries other batch sizes.
// Passages arrive BENCH_RETENTION_RATE a second (default 50, a Poisson stream: ten times a
// busy gate); BENCH_RETENTION_RATE=0 sends them back to back (≈ 700 a second), a stress
// under which the WAL never finds a pause to start over (docs/store.md "Checkpoints").
// Each step is probed (bench/step-probe.ts: main-thread CPU and run-queue wait, faults,
// context switches, time per kind of SQL statement, WAL state, GC) and every step over 1 ms
// gets a cause in a printed table. Passages are timed from their arrival. Also:
// BENCH_RETENTION_FILLED=<dir> fills once and copies it for later runs;
// BENCH_RETENTION_SAMPLES=<file> writes every step's probe figures as JSON;
// BENCH_RETENTION_PROGRESS=1 prints the step count and WAL every 5 s.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DAY_MS } from '../gateway/policy/time.js';
import { PAUSE_MS, RETENTION_BATCH, RetentionJob, STEP_BUDGET_MS } from '../gateway/retention.js';
import { pino } from 'pino';
import { DATABASE_FILE, openStore, verifyLedger } from '../gateway/store/index.js';
import { WORKER_NICE } from '../gateway/store/wal-checkpointer.js';
import { StepProbe, causeOf, causeTable, walBuckets } from './step-probe.js';
import { ROWS_PER_DAY, fillLedger } from './ledger-fill.js';
import { row, summarize } from './stats.js';
import { seededRandom } from '../drivers/scanner/sim-base.js';
import { benchLane, demoPasses, demoTrust } from './sim-lane.js';

const ROWS = Number(process.env.BENCH_RETENTION_ROWS ?? 1_000_000);
const PASSAGES = Number(process.env.BENCH_RETENTION_PASSAGES ?? 3000);

const WORKER = (process.env.BENCH_RETENTION_WORKER ?? 'on') !== 'off';
/**
 * Passages a second, arriving as a Poisson stream; 0 = back to back (≈ 700 a second here).
 * The default, 50 a second, is ten times a busy 4-lane gate (a lane passes about one
 * person a second at a shift change: scan, temperature, walking through).
 */
const RATE = Number(process.env.BENCH_RETENTION_RATE ?? 50);
/** BENCH_RETENTION_READ_AHEAD=off: steps read their own pages (before/after of the worker's read-ahead). */
const READ_AHEAD = (process.env.BENCH_RETENTION_READ_AHEAD ?? 'on') !== 'off';
/** BENCH_RETENTION_BUDGET=<ms>: another time box for a step's rows than STEP_BUDGET_MS. */
const BUDGET = process.env.BENCH_RETENTION_BUDGET === undefined ? undefined : Number(process.env.BENCH_RETENTION_BUDGET);

/** The process's CPU time, ms (Node 20 has no per-thread figure: the checkpoint worker's shows in it). */
function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** p50/p99/max and how many over 1 ms, one line. */
function stepLine(label: string, ms: number[]): string {
  const s = summarize(ms, 1);
  const over = ms.filter((x) => x > 1).length;
  return `${row(label, s, false)}  >1 ms: ${over} (${((over / Math.max(1, ms.length)) * 100).toFixed(2)} %)`;
}

function batchFromEnv(): { erase: number; delete: number } {
  const [erase, del] = (process.env.BENCH_RETENTION_BATCH ?? '').split(',').map(Number);
  return { erase: erase || RETENTION_BATCH.erase, delete: del || RETENTION_BATCH.delete };
}

export async function benchLedgerRetention(): Promise<void> {
  const now = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-retention-'));
  try {
    const days = Math.ceil(ROWS / ROWS_PER_DAY);
    const from = now - 400 * DAY_MS;
    const t = performance.now();
    // BENCH_RETENTION_FILLED=<dir>: fill it once and copy it for each run (the fill takes minutes on a loaded machine).
    const cache = process.env.BENCH_RETENTION_FILLED;
    if (cache !== undefined && existsSync(path.join(cache, DATABASE_FILE))) cpSync(cache, dir, { recursive: true });
    else {
      fillLedger(dir, ROWS, { days, from, to: from + days * DAY_MS });
      if (cache !== undefined) cpSync(dir, cache, { recursive: true });
    }
    // Flushed before anything is timed: a fresh copy leaves up to a GB of dirty pages, and a
    // decision's fsync then waited behind their writeback (a baseline p99 of 360 ms).
    execFileSync('sync');
    console.log(`WAL checkpoints ${WORKER ? 'in a worker thread' : 'inside the commits (auto-checkpoint)'}, batches ${JSON.stringify(batchFromEnv())}, time box ${BUDGET ?? STEP_BUDGET_MS} ms, worker nice ${process.env.BENCH_RETENTION_WORKER_NICE ?? WORKER_NICE}, read-ahead ${READ_AHEAD && WORKER ? 'on' : 'off'}, passages ${RATE > 0 ? `${RATE} a second (Poisson)` : 'back to back'}`);
    console.log(`filled ${ROWS} expired ledger rows (${days} days, 400 days back) with their chain in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const trust = await demoTrust();
    const passes = await demoPasses(PASSAGES, now);

    // BENCH_RETENTION_WORKER_NICE: the checkpoint worker thread's nice value (before/after).
    const nice = Number(process.env.BENCH_RETENTION_WORKER_NICE ?? WORKER_NICE);
    const store = openStore(dir, { checkpointWorker: WORKER && { nice } });
    const room = store.retention;
    if (room === null) throw new Error('expected a store with retention (schema 11)');
    // Each decision's ledger write (appendDecision: its commit with the WAL's fsync), timed
    // apart: the part of a passage the disk, shared with the job and the worker, can hold.
    let writeMs = 0;
    const append = store.appendDecision.bind(store);
    store.appendDecision = (entry, toOutbox) => {
      const t0 = performance.now();
      try {
        return append(entry, toOutbox);
      } finally {
        writeMs += performance.now() - t0;
      }
    };
    const { lane, scanner, thermometer } = benchLane(store, trust);
    const probe = new StepProbe(path.join(dir, `${DATABASE_FILE}-shm`), () => store.walCheckpoints()?.checkpoints ?? 0);
    let probePhase = '';
    await lane.start();
    const batch = batchFromEnv();
    try {
      const rnd = seededRandom(7);
      // Without a job: all the passes back to back, or 20 s of them paced.
      const alone = RATE > 0 ? Math.min(passes.length, RATE * 20) : passes.length;
      /** Passages one after the other until `until` resolves (or all passes are used when it is null). */
      const passages = async (until: Promise<unknown> | null): Promise<{ latencies: number[]; writes: number[]; wall: number; spans: [number, number][] }> => {
        let over = false;
        void until?.then(
          () => (over = true),
          () => (over = true),
        );
        const latencies: number[] = [];
        const writes: number[] = [];
        const spans: [number, number][] = [];
        const t0 = performance.now();
        let arrival = t0;
        for (let i = 0; !over && (until !== null || i < alone); i++) {
          // A passage arrives as an I/O event (a scan on the serial port or MQTT): one
          // event-loop turn each. Back to back in microtasks, they would starve the job's
          // timers (a lane that settles without I/O never lets the loop turn).
          // Timed from its arrival: a step that runs before its turn delays it as much as one inside it.
          let start: number;
          if (RATE > 0) {
            // Paced: arrivals at exponential intervals (a Poisson stream of RATE a second). A
            // timer fires up to ~1 ms late, which the latency (from the planned arrival) holds.
            arrival += (-Math.log(1 - rnd()) * 1000) / RATE;
            const wait = arrival - performance.now();
            await new Promise<void>((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
            start = Math.min(arrival, performance.now());
          } else {
            start = performance.now();
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          writeMs = 0;
          thermometer.reading(36.5);
          scanner.scan(passes[i % passes.length]!);
          await lane.settled();
          const end = performance.now();
          latencies.push(end - start);
          writes.push(writeMs);
          spans.push([start, end]);
        }
        return { latencies, writes, wall: performance.now() - t0, spans };
      };
      let atStart = true;
      /** Waits for the checkpointer before a step, and their time, ms. */
      let walWaits = 0;
      let walWaitMs = 0;
      /** Read-aheads that were not done when the step's pause ended, and their time past it, ms. */
      let aheadLate = 0;
      let aheadLateMs = 0;
      const progress = process.env.BENCH_RETENTION_PROGRESS
        ? setInterval(() => {
            const w = store.walCheckpoints();
            console.log(`  … ${probe.samples.length} steps, waits for the checkpointer ${walWaits}, worker log ${w?.log} checkpointed ${w?.checkpointed} (${w?.checkpoints} checkpoints)`);
          }, 5000).unref()
        : null;
      let checkpointsAt = 0;
      let overlapped = false;
      const job = (personalDataDays: number, ledgerDays: number, steps: number[], cpu: number[], own: number[]): RetentionJob =>
        new RetentionJob({
          room,
          personalDataDays,
          ledgerDays,
          everyMs: 0,
          now: () => now,
          logger: pino({ level: 'silent' }),
          batch,
          ...(BUDGET === undefined ? {} : { stepBudgetMs: BUDGET }),
          ...(READ_AHEAD
            ? {
                readAhead: async (kind, rows, maxMs) => {
                  const t = performance.now();
                  const done = await store.readAhead(kind, rows, maxMs);
                  const late = performance.now() - t - PAUSE_MS;
                  if (late > 0.1) {
                    aheadLate += 1;
                    aheadLateMs += late;
                  }
                  return done;
                },
              }
            : {}),
          walCaughtUp: async (maxMs) => {
            const t = performance.now();
            const caught = await store.walCaughtUp(maxMs);
            const ms = performance.now() - t;
            if (ms > 0.1) {
              walWaits += 1;
              walWaitMs += ms;
            }
            return caught;
          },
          // Called just before and just after each step: notes whether a worker checkpoint ended in between.
          cpuNow: () => {
            const k = store.walCheckpoints()?.checkpoints ?? 0;
            if (atStart) {
              checkpointsAt = k;
              probe.begin();
            } else overlapped = k !== checkpointsAt;
            atStart = !atStart;
            return processCpuMs();
          },
          onStep: (ms, cpuMs) => {
            probe.end(probePhase, 0, ms);
            steps.push(ms);
            cpu.push(cpuMs);
            if (!overlapped) own.push(cpuMs);
          },
        });

      const base = await passages(null);
      console.log(row('baseline: decisions, no retention job', summarize(base.latencies, base.wall)));
      console.log(row('  of each, its ledger write (commit, fsync)', summarize(base.writes, base.wall), false));

      for (const phase of [
        { label: 'erase', job: [28, 36_600] as const, what: 'erased' as const },
        { label: 'cut', job: [28, 365] as const, what: 'deleted' as const },
      ]) {
        const steps: number[] = [];
        const cpu: number[] = [];
        const own: number[] = [];
        const t = performance.now();
        probePhase = phase.label;
        const running = job(phase.job[0], phase.job[1], steps, cpu, own).runOnce();
        const during = await passages(running);
        const counts = await running;
        const ms = performance.now() - t;
        console.log(row(`decisions while the job ${phase.what === 'erased' ? 'erases' : 'cuts'} the backlog`, summarize(during.latencies, during.wall)));
        console.log(row('  of each, its ledger write (commit, fsync)', summarize(during.writes, during.wall), false));
        console.log(stepLine(`  one ${phase.label} step (batch ${phase.label === 'erase' ? batch.erase : batch.delete}), wall time`, steps));
        console.log(stepLine(`  the same, CPU time (process: user + system)`, cpu));
        if (WORKER) console.log(stepLine(`  CPU, steps no worker checkpoint ended in`, own));
        const n = counts[phase.what];
        probe.settleGc();
        const mine = probe.samples.filter((x) => x.phase === phase.label);
        for (const l of causeTable(mine)) console.log(l);
        console.log(walBuckets(mine));
        // The delay the job put in each decision: the steps' time inside the decision's span.
        const delays: number[] = [];
        /** Why each decision held over 1 ms was held: the cause of the step that held it longest. */
        const held = new Map<string, number>();
        let j = 0;
        for (const [a, b] of during.spans) {
          while (j < mine.length && mine[j]!.start + mine[j]!.wall < a) j++;
          let d = 0;
          let worst: { ms: number; step: (typeof mine)[number] } | null = null;
          for (let k = j; k < mine.length && mine[k]!.start < b; k++) {
            const ms = Math.max(0, Math.min(b, mine[k]!.start + mine[k]!.wall) - Math.max(a, mine[k]!.start));
            d += ms;
            if (worst === null || ms > worst.ms) worst = { ms, step: mine[k]! };
          }
          delays.push(d);
          if (d > 1 && worst !== null) {
            const c = causeOf(worst.step);
            held.set(c, (held.get(c) ?? 0) + 1);
          }
        }
        const hit = delays.filter((d) => d > 0);
        console.log(
          `  decisions a step ran inside: ${hit.length} of ${delays.length} (${((hit.length / Math.max(1, delays.length)) * 100).toFixed(1)} %); the step time inside them, ${stepLine('', hit).trim()}`,
        );
        if (held.size > 0) console.log(`  the steps that held a decision over 1 ms: ${[...held].map(([c, n]) => `${n} × ${c}`).join('; ')}`);
        console.log(`  waited for the checkpointer before ${walWaits} steps, ${(walWaitMs / 1000).toFixed(2)} s in all; for the read-ahead past the pause before ${aheadLate} steps, ${(aheadLateMs / 1000).toFixed(2)} s in all`);
        walWaits = 0;
        walWaitMs = 0;
        aheadLate = 0;
        aheadLateMs = 0;
        console.log(`  ${phase.what} ${n} rows in ${(ms / 1000).toFixed(1)} s: ${Math.round((n / ms) * 1000)} rows/s (${counts.steps} steps, longest ${counts.longestStepMs.toFixed(3)} ms)`);
      }
      const after = await passages(null);
      console.log(row('baseline again after the cut: decisions, no job', summarize(after.latencies, after.wall)));
      console.log(row('  of each, its ledger write (commit, fsync)', summarize(after.writes, after.wall), false));
      probe.close();
      // BENCH_RETENTION_SAMPLES=<file>: every step's probe figures as JSON, to look at afterwards.
      if (process.env.BENCH_RETENTION_SAMPLES) writeFileSync(process.env.BENCH_RETENTION_SAMPLES, JSON.stringify(probe.samples));
      if (progress !== null) clearInterval(progress);
      const w = store.walCheckpoints();
      console.log(
        w === null
          ? 'WAL checkpoints: SQLite auto-checkpoint inside the commits (no worker)'
          : `WAL checkpoint worker: ${w.checkpoints} checkpoints (${w.busy} busy), largest WAL ${w.maxLog} frames (${((w.maxLog * 4096) / 1e6).toFixed(1)} MB); ${w.readAheads} read-aheads (${w.readAheadFailures} failed)`,
      );
      const v = verifyLedger(dir);
      console.log(`ledger verify after the cut: ${v.ok ? 'intact' : `BROKEN: ${v.problem?.detail}`}, ${v.verified} chain rows, starts after checkpoint ${v.cutBy}`);
    } finally {
      await lane.stop();
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === `file://${process.argv[1]}`) await benchLedgerRetention();
