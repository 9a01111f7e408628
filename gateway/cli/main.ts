#!/usr/bin/env node
// The gateway's command line: demo keys and passes, roster import, ledger queries and
// config checks. Output meant for pipes (a pass, JSON) goes to stdout; everything
// else to stderr, so `pass issue | curl ...` works.
import { Command, CommanderError, Option } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, configPathFromEnv, loadConfig } from '../config/load.js';
import { checkConfig } from '../config/check.js';
import { CATEGORIES, HEALTH_CODES, RISK_LEVELS } from '../credentials/types.js';
import { generateIssuerKeys, issuePass, issueVehiclePass } from '../credentials/issue.js';
import { parseRosterCsv, type RosterCsvError } from '../store/roster-csv.js';
import { chineseRosterDialect, chineseWordsFor, decodeRosterBytes } from '../store/roster-csv-zh.js';
import { openStore } from '../store/index.js';
import type { LedgerQuery } from '../store/types.js';
import { chinaTime } from '../display-time.js';
import { parseInstant } from '../policy/time.js';
import { VERSION } from '../version.js';
import { readSecret } from '../gateway.js';
import { ScreeningError, screeningDay, screeningDayOf, screeningReport } from '../screening/report.js';
import { pseudonymizer } from '../telemetry/pseudonym.js';
import { registerBackupCommand } from './backup.js';
import { registerCentral } from './central.js';
import { registerDccCommands } from './dcc.js';
import { registerDeviceCommands } from './devices.js';
import { registerGuardCommands } from './guards.js';
import { registerLedgerCommands } from './ledger.js';
import { registerPolicyCommands } from './policy.js';
import { registerPrivacyCommands } from './privacy.js';
import { registerSetupCommand } from './setup.js';

const DEMO_KEY = 'config/demo/issuer-1.private.jwk.json';

/** A usage error the user can fix: printed without a stack, exit code 2. */
class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file}: expected ${what} as JSON: ${(err as Error).message}`);
  }
}

/** A date or time without a zone is China time, as everywhere else ("2026-11-28 08:00"). */
function parseTime(value: string, flag: string): number {
  const ms = parseInstant(value.trim().replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, '$1T$2'));
  if (Number.isNaN(ms)) throw new CliError(`${flag}: expected an ISO date or timestamp, China time unless it names a zone (e.g. 2026-11-28, 2026-11-28 08:00 or 2026-11-28T08:00:00Z), got "${value}"`);
  return ms;
}

function parseNumber(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag}: expected a number, got "${value}"`);
  return n;
}

function storeFromConfig(configFile: string | undefined) {
  const loaded = loadConfig(configFile ?? configPathFromEnv());
  return openStore(loaded.paths.dataDir);
}

interface PassFlags {
  claims?: string;
  key: string;
  qr?: string;
  sub?: string;
  name?: string;
  category?: string;
  healthCode?: string;
  testResult?: string;
  testAgeHours?: string;
  riskLevel?: string;
  visit?: string[];
  validHours?: string;
  issuedHoursAgo?: string;
}

async function passIssue(flags: PassFlags): Promise<void> {
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const base: Record<string, unknown> = flags.claims
    ? (readJson(flags.claims, 'pass claims') as Record<string, unknown>)
    : {
        sub: 'demo-0001',
        name: '张三',
        category: 'employee',
        healthCode: 'green',
        travel: { riskLevel: 'none', visits: [], asOf: iso(now) },
        test: { result: 'negative', sampledAt: iso(now - 6 * 3600_000) },
      };
  if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new CliError(`${flags.claims}: expected a JSON object of claims`);
  const claims: Record<string, unknown> = { ...base };
  if (flags.sub !== undefined) claims.sub = flags.sub;
  if (flags.name !== undefined) claims.name = flags.name;
  if (flags.category !== undefined) claims.category = flags.category;
  if (flags.healthCode !== undefined) claims.healthCode = flags.healthCode;
  const test = { ...((claims.test as Record<string, unknown> | undefined) ?? { result: 'negative', sampledAt: iso(now) }) };
  if (flags.testResult !== undefined) test.result = flags.testResult;
  if (flags.testAgeHours !== undefined) test.sampledAt = iso(now - parseNumber(flags.testAgeHours, '--test-age-hours') * 3600_000);
  claims.test = test;
  const travel = { ...((claims.travel as Record<string, unknown> | undefined) ?? { riskLevel: 'none', visits: [], asOf: iso(now) }) };
  if (flags.riskLevel !== undefined) travel.riskLevel = flags.riskLevel;
  if (flags.visit && flags.visit.length > 0) {
    travel.visits = flags.visit.map((v) => {
      const [region, from, to] = v.split(',');
      if (!region || !from || !to) throw new CliError(`--visit: expected "region,YYYY-MM-DD,YYYY-MM-DD", got "${v}"`);
      return { region, from, to };
    });
  }
  claims.travel = travel;
  if (flags.issuedHoursAgo !== undefined) claims.iat = Math.floor(now / 1000 - parseNumber(flags.issuedHoursAgo, '--issued-hours-ago') * 3600);
  if (flags.validHours !== undefined) {
    const iat = typeof claims.iat === 'number' ? claims.iat : Math.floor(now / 1000);
    claims.exp = iat + Math.round(parseNumber(flags.validHours, '--valid-hours') * 3600);
  }

  const key = readJson(flags.key, 'an issuer private key');
  const token = await issuePass(claims, key as Parameters<typeof issuePass>[1], { now });
  if (flags.qr) {
    const QRCode = await import('qrcode');
    await QRCode.toFile(flags.qr, token, { errorCorrectionLevel: 'M', margin: 2, width: 512 });
    process.stderr.write(`QR image written to ${flags.qr}\n`);
  }
  process.stdout.write(`${token}\n`);
}

export function buildProgram(): Command {
  const program = new Command('checkpoint-gateway')
    .description('Checkpoint gateway command line')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();

  const keys = program.command('keys').description('issuer keys for signed health passes');
  keys
    .command('generate')
    .description('generate an Ed25519 issuer key pair: <kid>.private.jwk.json (keep secret) and <kid>.jwk.json (put in the trust folder)')
    .requiredOption('--kid <kid>', 'key id written into every pass header')
    .option('--out <dir>', 'folder to write the two files into', '.')
    .action(async (o: { kid: string; out: string }) => {
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(o.kid)) throw new CliError(`--kid: expected letters, digits, ".", "_" or "-" (1-64), got "${o.kid}"`);
      const priv = path.join(o.out, `${o.kid}.private.jwk.json`);
      const pub = path.join(o.out, `${o.kid}.jwk.json`);
      for (const f of [priv, pub]) if (existsSync(f)) throw new CliError(`${f} exists already; refusing to overwrite a key`);
      const { privateJwk, publicJwk } = await generateIssuerKeys(o.kid);
      mkdirSync(o.out, { recursive: true });
      writeFileSync(priv, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
      writeFileSync(pub, `${JSON.stringify(publicJwk, null, 2)}\n`);
      process.stderr.write(`private key: ${priv} (keep it secret)\npublic key:  ${pub} (copy into the gateways' trust folder)\n`);
    });

  const pass = program.command('pass').description('signed health passes and vehicle passes');
  pass
    .command('issue')
    .description('sign a health pass and print it (only the pass text goes to stdout)')
    .option('--claims <file.json>', 'claims as JSON; the flags below override its fields')
    .option('--key <file>', 'issuer private JWK', DEMO_KEY)
    .option('--qr <file.png>', 'also write the pass as a QR image')
    .option('--sub <id>', 'subject id')
    .option('--name <name>', "person's name")
    .addOption(new Option('--category <category>').choices(CATEGORIES))
    .addOption(new Option('--health-code <colour>').choices(HEALTH_CODES))
    .addOption(new Option('--test-result <result>').choices(['negative', 'positive']))
    .option('--test-age-hours <hours>', 'the nucleic-acid sample was taken this many hours ago')
    .addOption(new Option('--risk-level <level>', "travel code's risk level").choices(RISK_LEVELS))
    .option('--visit <region,from,to>', 'a stay in a region (repeatable), dates YYYY-MM-DD', (v: string, acc: string[] = []) => [...acc, v])
    .option('--issued-hours-ago <hours>', 'date the pass back (e.g. 30 with the default 24 h validity gives an expired pass)')
    .option('--valid-hours <hours>', 'the pass expires this many hours after it was issued (default 24)')
    .action((o: PassFlags) => passIssue(o));
  pass
    .command('issue-vehicle')
    .description('sign a vehicle pass (typ vehicle-pass+jwt) for the vehicle gate and print it (only the pass text goes to stdout)')
    .requiredOption('--plate <plate>', 'number plate, e.g. 晋A12345')
    .requiredOption('--goods <category>', 'goods category id, e.g. food (the vehicle-gate profile lists the essential ones)')
    .requiredOption('--driver <sub>', "the driver's pass subject id (sub)")
    .option('--key <file>', 'issuer private JWK', DEMO_KEY)
    .option('--qr <file.png>', 'also write the pass as a QR image')
    .option('--valid-hours <hours>', 'the pass expires this many hours after it was issued (default 24)')
    .action(async (o: { plate: string; goods: string; driver: string; key: string; qr?: string; validHours?: string }) => {
      const now = Date.now();
      const claims: Record<string, unknown> = { plate: o.plate, goods: o.goods, driver: o.driver };
      if (o.validHours !== undefined) claims.exp = Math.floor(now / 1000) + Math.round(parseNumber(o.validHours, '--valid-hours') * 3600);
      const key = readJson(o.key, 'an issuer private key');
      const token = await issueVehiclePass(claims, key as Parameters<typeof issueVehiclePass>[1], { now });
      if (o.qr) {
        const QRCode = await import('qrcode');
        await QRCode.toFile(o.qr, token, { errorCorrectionLevel: 'M', margin: 2, width: 512 });
        process.stderr.write(`QR image written to ${o.qr}\n`);
      }
      process.stdout.write(`${token}\n`);
    });

  program
    .command('roster')
    .description('the staff roster behind badge scans')
    .command('import <csv>')
    .description('import staff from a CSV file, English or a Chinese Excel export (UTF-8 or GB18030; see docs/store.md); nothing is imported if any row is bad')
    .option('--config <file>', 'gateway config naming the data dir (default GATEWAY_CONFIG or config/gateway.yaml)')
    .action((csv: string, o: { config?: string }) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(csv);
      } catch (err) {
        throw new CliError(`cannot read ${csv}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
        throw new CliError(`${csv}: a UTF-16 file (Excel's "Unicode text"); save the sheet as "CSV UTF-8" or "CSV" instead`);
      }
      const { text, encoding } = decodeRosterBytes(bytes);
      const dialect = chineseRosterDialect();
      const { entries, errors } = parseRosterCsv(text, Date.now(), dialect);
      if (errors.length > 0) {
        const describe = (e: RosterCsvError): string => {
          const written = dialect.writtenAs(e.column);
          const words = written === undefined ? [] : chineseWordsFor(e.column);
          const hint = words.length > 0 && e.message.startsWith('expected one of') ? ` (或 ${words.join('、')})` : '';
          return `line ${e.line}, column ${written === undefined ? e.column : `${written} (${e.column})`}: ${e.message}${hint}`;
        };
        throw new CliError(`${csv}: ${errors.length} problem(s), nothing imported${encoding === 'UTF-8' ? '' : ` (read as ${encoding})`}:\n  ${errors.map(describe).join('\n  ')}`);
      }
      const store = storeFromConfig(o.config);
      try {
        const n = store.rosterUpsert(entries);
        process.stderr.write(`imported ${n} roster entr${n === 1 ? 'y' : 'ies'} into ${store.path}${encoding === 'UTF-8' ? '' : ` (the file was read as ${encoding}, as Excel on Chinese Windows saves CSV)`}\n`);
      } finally {
        store.close();
      }
    });

  program
    .command('events')
    .description('query the local ledger, newest first (times in China time; --json: ISO in UTC)')
    .option('--config <file>', 'gateway config naming the data dir')
    .option('--lane <id>')
    .addOption(new Option('--outcome <outcome>').choices(['admit', 'refuse', 'refer']))
    .option('--from <time>', 'ISO date or time, China time unless it names a zone; inclusive')
    .option('--to <time>', 'the same, exclusive')
    .option('--limit <n>', 'at most this many rows (1-1000)', '50')
    .option('--json', 'one JSON object per line instead of a table')
    .action((o: { config?: string; lane?: string; outcome?: LedgerQuery['outcome']; from?: string; to?: string; limit: string; json?: boolean }) => {
      const q: LedgerQuery = { limit: parseNumber(o.limit, '--limit') };
      if (o.lane) q.lane = o.lane;
      if (o.outcome) q.outcome = o.outcome;
      if (o.from) q.from = parseTime(o.from, '--from');
      if (o.to) q.to = parseTime(o.to, '--to');
      const store = storeFromConfig(o.config);
      try {
        for (const e of store.queryEvents(q)) {
          const { subjectName: _local, ...rest } = e;
          if (o.json) {
            process.stdout.write(`${JSON.stringify({ ...rest, at: new Date(e.at).toISOString() })}\n`);
          } else {
            const temp = e.temperature === null ? '    -' : e.temperature.toFixed(1);
            const reasons = e.reasons.map((r) => r.code).join(',') || '-';
            process.stdout.write(`${chinaTime(e.at)}  #${e.seq}  ${e.lane}  ${e.outcome.padEnd(6)}  ${temp}  ${e.credential.padEnd(11)}  ${reasons}\n`);
          }
        }
      } finally {
        store.close();
      }
    });

  program
    .command('report')
    .description('reports from the local ledger')
    .command('screening')
    .description('daily screening: every active rostered worker with their first screening of the day (China time) at any lane, and who is not screened yet')
    .option('--config <file>', 'gateway config naming the data dir and the pseudonym secret')
    .option('--date <YYYY-MM-DD>', 'the day in China time (default today)')
    .option('--json', 'the report as one JSON object')
    .action((o: { config?: string; date?: string; json?: boolean }) => {
      let day;
      try {
        day = o.date === undefined ? screeningDayOf(Date.now()) : screeningDay(o.date);
      } catch (err) {
        if (err instanceof ScreeningError) throw new CliError(`--date: expected a calendar date YYYY-MM-DD, got "${o.date ?? ''}"`);
        throw err;
      }
      const loaded = loadConfig(o.config ?? configPathFromEnv());
      const pseudonym = pseudonymizer(readSecret(loaded.paths.pseudonymSecretFile));
      const store = openStore(loaded.paths.dataDir);
      try {
        const report = screeningReport(store, day, pseudonym);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(report)}\n`);
          return;
        }
        process.stdout.write(`screening ${report.date} (China time): ${report.screened.length} of ${report.workers} workers screened, ${report.notScreened.length} not yet\n`);
        for (const w of report.screened) {
          process.stdout.write(`  screened      ${w.staffId.padEnd(12)} ${w.name}  ${chinaTime(w.firstAt)}  ${w.lane}  ${w.outcome}\n`);
        }
        for (const w of report.notScreened) process.stdout.write(`  not screened  ${w.staffId.padEnd(12)} ${w.name}\n`);
      } finally {
        store.close();
      }
    });

  registerGuardCommands(program);

  program
    .command('config')
    .description('gateway configuration')
    .command('check [file]')
    .description('check a configuration file and the files, folders and profiles it names; list every problem (default GATEWAY_CONFIG or config/gateway.yaml; exit 78 when any)')
    .action(async (file: string | undefined) => {
      const checked = await checkConfig(file ?? configPathFromEnv());
      for (const note of checked.notes) process.stderr.write(`note: ${note}\n`);
      const loaded = checked.loaded;
      if (loaded === null) throw new ConfigError(checked.file, checked.problems);
      process.stdout.write(`${loaded.file}: OK (${loaded.config.lanes.length} lane${loaded.config.lanes.length === 1 ? '' : 's'}, site ${loaded.config.site}, checkpoint ${loaded.config.checkpoint})\n`);
    });

  registerPolicyCommands(program);
  registerDeviceCommands(program);
  registerBackupCommand(program);
  registerSetupCommand(program);
  registerCentral(program);
  registerLedgerCommands(program);
  registerDccCommands(program);
  registerPrivacyCommands(program);
  return program;
}

/**
 * A reader that goes away (`events | head -1`) ends the output: stop quietly with 0, as
 * if everything had been read, instead of an unhandled EPIPE with a stack.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

async function run(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 78; // EX_CONFIG, as the gateway exits on the same problems
    }
    const e = err as { code?: unknown; message?: string };
    if (err instanceof CliError || typeof e.code === 'string') {
      process.stderr.write(`error: ${e.message ?? String(err)}\n`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await run(process.argv);
