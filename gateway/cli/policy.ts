// `policy` commands: check a profile file, and replay stored passages under another
// profile to see what it would have changed before it goes live. Registered from main.ts.
import type { Command } from 'commander';
import { configPathFromEnv, loadConfig } from '../config/load.js';
import { loadProfileFile } from '../config/profiles.js';
import { ReplayTally, type ReplayReport, type ReplayTallyOptions } from '../policy/replay.js';
import { chinaTime } from '../display-time.js';
import { parseInstant } from '../policy/time.js';
import type { PolicyProfile } from '../policy/types.js';
import { openStore } from '../store/index.js';
import type { SqliteStore } from '../store/sqlite-store.js';

/** A usage error: main.ts prints errors carrying a string code without a stack (exit 2). */
class PolicyCliError extends Error {
  readonly code = 'CLI_USAGE';
}

export interface ReplayOptions {
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  maxExamples?: number;
  /** Keep every change in `report.all` (tests). */
  keepAll?: boolean;
}

/** Re-decide every stored passage with kept facts in [from, to) under `profile`. */
export function replayLedger(store: Pick<SqliteStore, 'replayRows' | 'zoneCorrections'>, profile: PolicyProfile, opts: ReplayOptions = {}): ReplayReport {
  const tallyOpts: ReplayTallyOptions = { zoneCorrections: (zone) => store.zoneCorrections(zone) };
  if (opts.maxExamples !== undefined) tallyOpts.maxExamples = opts.maxExamples;
  if (opts.keepAll !== undefined) tallyOpts.keepAll = opts.keepAll;
  const tally = new ReplayTally(profile, tallyOpts);
  const q: { from?: number; to?: number } = {};
  if (opts.from !== undefined) q.from = opts.from;
  if (opts.to !== undefined) q.to = opts.to;
  for (const row of store.replayRows(q)) tally.add(row);
  return tally.report;
}

/** The report as people read it. */
export function formatReplayReport(report: ReplayReport, profileName: string, hash: string): string {
  const lines = [
    `profile ${profileName} (sha256 ${hash.slice(0, 16)}…)`,
    `re-decided ${report.replayed} passage(s): ${report.unchanged} unchanged, ${report.reasonsChanged} same outcome with other reasons, ${report.changed} changed outcome`,
  ];
  for (const [k, n] of Object.entries(report.changedBy).sort(([, a], [, b]) => b - a)) lines.push(`  ${k.padEnd(16)} ${n}`);
  if (report.examples.length > 0) lines.push('examples:');
  for (const e of report.examples) {
    lines.push(
      `  #${e.seq}  ${chinaTime(e.at)}  ${e.lane}  ${e.category ?? '-'}  ${e.from} → ${e.to}  ` +
        `[${e.fromCodes.join(',') || '-'}] → [${e.toCodes.join(',') || '-'}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A date or time without a zone is China time, as everywhere in the policy ("2026-11-28" = 00:00 China). */
function parseTime(value: string, flag: string): number {
  const ms = parseInstant(value);
  if (Number.isNaN(ms)) throw new PolicyCliError(`${flag}: expected an ISO date or timestamp, China time unless it names a zone (e.g. 2026-11-28 or 2026-11-28T08:00), got "${value}"`);
  return ms;
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('checkpoint profiles: check one, replay the ledger under one');

  policy
    .command('check <file>')
    .description('validate a profile file, listing every problem; prints its name and content hash')
    .action((file: string) => {
      const p = loadProfileFile(file);
      process.stdout.write(`${file}: OK (profile ${p.profile.name}, sha256 ${p.hash})\n`);
    });

  policy
    .command('zone <zone>')
    .description('show a zone\'s count and its corrections; with --set, correct the count (signed by a guard, recorded)')
    .option('--set <n>', 'the true number of people inside')
    .option('--guard <id>', 'who corrects it (required with --set)')
    .option('--reason <text>', 'why (required with --set)')
    .option('--config <file>', 'gateway config naming the data dir')
    .action((zone: string, o: { set?: string; guard?: string; reason?: string; config?: string }) => {
      const config = loadConfig(o.config ?? configPathFromEnv());
      const store = openStore(config.paths.dataDir);
      try {
        if (o.set !== undefined) {
          const n = Number(o.set);
          if (!Number.isSafeInteger(n) || n < 0) throw new PolicyCliError(`--set: expected a whole number ≥ 0, got "${o.set}"`);
          if (!o.guard || !o.reason) throw new PolicyCliError('--set needs --guard <id> and --reason <text>: every correction is signed');
          const c = store.zoneCorrect({ zone, count: n, guard: o.guard, reason: o.reason, at: Date.now() });
          process.stderr.write(`zone ${zone}: ${c.from} → ${c.to} (recorded, signed ${c.guard})\n`);
        }
        process.stdout.write(`zone ${zone}: ${store.zoneFacts(zone, null).count} inside\n`);
        for (const c of store.zoneCorrections(zone)) {
          process.stdout.write(`  ${chinaTime(c.at)}  ${c.guard}  ${c.from} → ${c.to}  ${c.reason}\n`);
        }
      } finally {
        store.close();
      }
    });

  policy
    .command('replay')
    .description('re-decide stored passages under another profile and print what would have changed')
    .requiredOption('--profile <file>', 'profile file (YAML) to replay with')
    .requiredOption('--since <time>', 'ISO time: passages from here on (inclusive)')
    .option('--until <time>', 'ISO time: passages before this (exclusive)')
    .option('--config <file>', 'gateway config naming the data dir (default GATEWAY_CONFIG or config/gateway.yaml)')
    .option('--examples <n>', 'how many changed passages to show', '10')
    .option('--json', 'print the report as JSON')
    .action((o: { profile: string; since: string; until?: string; config?: string; examples: string; json?: boolean }) => {
      const loaded = loadProfileFile(o.profile);
      const maxExamples = Number(o.examples);
      if (!Number.isSafeInteger(maxExamples) || maxExamples < 0) throw new PolicyCliError(`--examples: expected a whole number ≥ 0, got "${o.examples}"`);
      const opts: ReplayOptions = { from: parseTime(o.since, '--since'), maxExamples };
      if (o.until !== undefined) opts.to = parseTime(o.until, '--until');
      const config = loadConfig(o.config ?? configPathFromEnv());
      const store = openStore(config.paths.dataDir);
      try {
        const started = performance.now();
        const report = replayLedger(store, loaded.profile, opts);
        const ms = performance.now() - started;
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ profile: loaded.profile.name, hash: loaded.hash, ms: Math.round(ms), ...report })}\n`);
        } else {
          process.stdout.write(formatReplayReport(report, loaded.profile.name, loaded.hash));
          process.stderr.write(`(${Math.round(ms)} ms)\n`);
        }
      } finally {
        store.close();
      }
    });
}
