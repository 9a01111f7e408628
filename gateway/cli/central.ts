// The central office's side, as commands: make its signing keys, sign an update, publish
// it and wait for the gateways' answers, and tail every checkpoint's events and alerts.
// Enough to run a site without writing code. Output meant for pipes (a signed update,
// tailed messages) goes to stdout; everything else to stderr.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { generateIssuerKeys, ISSUER_KID_PATTERN } from '../credentials/issue.js';
import { isUpdateError } from '../updates/errors.js';
import { ALL, UPDATE_KINDS, checkSingleCheckpoint, isUpdateKind, peekTransaction, prepareUpdateData, type UpdateEnvelope } from '../updates/envelope.js';
import { signUpdate } from '../updates/sign.js';
import { chinaTime } from '../display-time.js';
import { readHidden } from './guards.js';
import { formatTailLine } from './tail-format.js';

export const DEMO_CENTRAL_KEY = 'config/demo/central-1.private.jwk.json';

/** A usage error: printed without a stack, exit code 2 (main.ts treats any `code` so). */
class CentralCliError extends Error {
  readonly code = 'CENTRAL_CLI';
  constructor(message: string) {
    super(message);
    this.name = 'CentralCliError';
  }
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CentralCliError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Who ran a command, for officer_audit.client. */
function cliClient(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): keep "unknown"
  }
  return `cli:${user}`;
}

/** A password from standard input: typed twice without echo on a terminal (`check`ed before the second time), or the first piped line. */
async function readPassword(check: (password: string) => void): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await readHidden('password (10-128 characters): ');
    check(first);
    const again = await readHidden('password again: ');
    if (first !== again) throw new CentralCliError('the two passwords differ; nothing changed');
    return first;
  }
  let text = '';
  for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
  return (text.split(/\r?\n/)[0] ?? '').replace(/\r$/, '');
}

function readJson(file: string, what: string): unknown {
  const text = readText(file, what);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CentralCliError(`${file}: expected ${what} as JSON: ${(err as Error).message}`);
  }
}

function id(value: string, flag: string, allowAll = false): string {
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(value) || (!allowAll && value === ALL)) {
    throw new CentralCliError(`${flag}: expected a lowercase id (letters, digits, "-")${allowAll ? ' or "all"' : ''}, got "${value}"`);
  }
  return value;
}

interface BrokerFlags {
  url: string;
  prefix: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

function addBrokerOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'broker URL (default MQTT_URL or mqtt://127.0.0.1:1883)', process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883')
    .option('--prefix <prefix>', 'topic prefix', 'checkpoints')
    .option('--username <name>')
    .option('--password-file <file>', 'first line is the password')
    .option('--ca <file.pem>', 'CA bundle for mqtts://')
    .option('--cert <file.pem>', 'client certificate')
    .option('--key <file.pem>', 'client key');
}

async function connectBroker(flags: BrokerFlags, what: string): Promise<MqttClient> {
  const opts: IClientOptions = {
    clientId: `central-${what}-${randomUUID().slice(0, 8)}`,
    protocolVersion: 4, // works with Mosquitto and with a gateway's embedded broker
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  };
  if (flags.username) opts.username = flags.username;
  if (flags.passwordFile) opts.password = readText(flags.passwordFile, 'password file').split(/\r?\n/)[0] ?? '';
  if (flags.ca) opts.ca = readText(flags.ca, 'CA file');
  if (flags.cert) opts.cert = readText(flags.cert, 'client certificate');
  if (flags.key) opts.key = readText(flags.key, 'client key');
  const client = connect(flags.url, opts);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => reject(new CentralCliError(`cannot connect to ${flags.url}: ${err.message}`)));
  });
  return client;
}

/**
 * The checkpoints of a site whose retained status says online. Mosquitto sends a
 * subscription's retained messages before it answers the next SUBACK on the same
 * connection, so once a second subscription is acknowledged every status is in.
 */
async function onlineCheckpoints(client: MqttClient, prefix: string, site: string): Promise<Set<string>> {
  const statusTopic = `${prefix}/${site}/+/status`;
  const online = new Set<string>();
  const onStatus = (topic: string, payload: Buffer): void => {
    const parts = topic.split('/');
    if (parts.length !== statusTopic.split('/').length || parts.at(-1) !== 'status') return;
    const cp = parts.at(-2) ?? '';
    const text = payload.toString('utf8');
    let state: unknown = text;
    try {
      state = (JSON.parse(text) as { state?: unknown }).state;
    } catch {
      // a plain "online"/"offline" payload
    }
    if (state === 'online') online.add(cp);
    else online.delete(cp);
  };
  client.on('message', onStatus);
  try {
    await client.subscribeAsync(statusTopic, { qos: 0 });
    await client.subscribeAsync(`${prefix}/${site}/cli-barrier-${randomUUID()}`, { qos: 0 });
  } finally {
    client.off('message', onStatus);
  }
  await client.unsubscribeAsync(statusTopic);
  return online;
}

/** Entry kinds accept a bare array as their data: `[...]` means `{ entries: [...] }` (dcc-trust: `{ certificates: [...] }`, as `dcc trust` writes it). */
function dataOf(kind: string, value: unknown): unknown {
  if (Array.isArray(value) && kind === 'dcc-trust') return { certificates: value };
  return Array.isArray(value) && !['policy', 'trust-keys'].includes(kind) ? { entries: value } : value;
}

export function registerCentral(program: Command): void {
  const central = program.command('central').description('the central office side: update keys, signed updates, tail');

  central
    .command('keys')
    .description('central-office signing keys')
    .command('generate')
    .description('an Ed25519 key pair: <kid>.private.jwk.json (keep at the office) and <kid>.jwk.json (for the gateways\' central.updateKeysDir)')
    .requiredOption('--kid <kid>', 'key id written into every update header')
    .option('--out <dir>', 'folder to write the two files into', '.')
    .action(async (o: { kid: string; out: string }) => {
      if (!ISSUER_KID_PATTERN.test(o.kid)) throw new CentralCliError(`--kid: expected ${ISSUER_KID_PATTERN.source}, got "${o.kid}"`);
      const priv = path.join(o.out, `${o.kid}.private.jwk.json`);
      const pub = path.join(o.out, `${o.kid}.jwk.json`);
      for (const f of [priv, pub]) if (existsSync(f)) throw new CentralCliError(`${f} exists already; refusing to overwrite a key`);
      const { privateJwk, publicJwk } = await generateIssuerKeys(o.kid);
      mkdirSync(o.out, { recursive: true });
      writeFileSync(priv, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
      writeFileSync(pub, `${JSON.stringify(publicJwk, null, 2)}\n`);
      process.stderr.write(`private key: ${priv} (keep it at the central office)\npublic key:  ${pub} (copy into each gateway's central.updateKeysDir)\n`);
    });

  central
    .command('sign <kind> <data.json>')
    .description(`sign an update (kinds: ${UPDATE_KINDS.join(', ')}); prints only the signed update`)
    .requiredOption('--update-version <n>', 'must be above the last version of this kind the gateways applied (a counter or a timestamp)')
    .requiredOption('--site <site>', 'site the update is for')
    .option('--checkpoint <id>', 'one checkpoint, or "all" (not for resend)', ALL)
    .option('--transaction <id>', 'id echoed in the responses (default: a new UUID)')
    .option('--key <file>', 'central-office private JWK', DEMO_CENTRAL_KEY)
    .action(async (kind: string, file: string, o: { updateVersion: string; site: string; checkpoint: string; transaction?: string; key: string }) => {
      if (!isUpdateKind(kind)) throw new CentralCliError(`kind "${kind}": expected one of ${UPDATE_KINDS.join(', ')}`);
      const version = Number(o.updateVersion);
      if (!Number.isSafeInteger(version) || version < 1) throw new CentralCliError(`--update-version: expected a whole number ≥ 1, got "${o.updateVersion}"`);
      const envelope: UpdateEnvelope = {
        kind,
        version,
        site: id(o.site, '--site'),
        checkpoint: id(o.checkpoint, '--checkpoint', true),
        transaction: o.transaction ?? randomUUID(),
        issuedAt: new Date().toISOString(),
        data: dataOf(kind, readJson(file, `${kind} data`)),
      };
      try {
        // The gateway would refuse it anyway; say so here, naming the entry and field.
        checkSingleCheckpoint(envelope);
        await prepareUpdateData(envelope);
      } catch (err) {
        if (isUpdateError(err)) throw new CentralCliError(`${file}: ${err.message}`);
        throw err;
      }
      const key = readJson(o.key, 'a central-office private key') as Parameters<typeof signUpdate>[1];
      process.stdout.write(`${await signUpdate(envelope, key)}\n`);
      process.stderr.write(`signed ${kind} version ${version} for ${envelope.site}/${envelope.checkpoint}, transaction ${envelope.transaction}\n`);
    });

  addBrokerOptions(
    central
      .command('publish <kind> [signed-file]')
      .description("publish a signed update (file or stdin), print the gateways' responses, and return once every expected gateway answered")
      .requiredOption('--site <site>')
      .option('--checkpoint <id>', 'one checkpoint, or "all"', ALL)
      .option('--expect <ids>', 'with --checkpoint all: the checkpoints that must answer, comma separated (default: those whose retained status is online now)')
      .option('--wait <ms>', 'how long to wait for the expected answers', '10000')
      .option('--retain', 'keep it on the broker, so gateways offline now get it when they connect'),
  ).action(async (kind: string, file: string | undefined, o: BrokerFlags & { site: string; checkpoint: string; expect?: string; wait: string; retain?: boolean }) => {
    if (!isUpdateKind(kind)) throw new CentralCliError(`kind "${kind}": expected one of ${UPDATE_KINDS.join(', ')}`);
    const site = id(o.site, '--site');
    const checkpoint = id(o.checkpoint, '--checkpoint', true);
    if (o.expect !== undefined && checkpoint !== ALL) throw new CentralCliError('--expect: only with --checkpoint all (one checkpoint is the one expected)');
    const listed = o.expect?.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => id(x, '--expect'));
    if (listed !== undefined && listed.length === 0) throw new CentralCliError('--expect: expected one or more checkpoint ids, comma separated');
    const token = readText(file ?? '-', 'signed update').trim();
    const transaction = peekTransaction(token);
    const waitMs = Number(o.wait);
    if (!Number.isFinite(waitMs) || waitMs < 0) throw new CentralCliError(`--wait: expected milliseconds, got "${o.wait}"`);
    const client = await connectBroker(o, 'publish');
    const answered = new Set<string>();
    let rejected = 0;
    let answers = 0;
    let expected: Set<string>;
    try {
      expected = checkpoint !== ALL ? new Set([checkpoint]) : listed !== undefined ? new Set(listed) : await onlineCheckpoints(client, o.prefix, site);
      const responses = `${o.prefix}/${site}/${checkpoint === ALL ? '+' : checkpoint}/response/${kind}`;
      // Subscribe first, so a fast gateway's answer is not missed.
      await client.subscribeAsync(responses, { qos: 1 });
      const done = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        const allIn = (): boolean => expected.size > 0 && [...expected].every((c) => answered.has(c));
        client.on('message', (topic, payload) => {
          if (!topic.endsWith(`/response/${kind}`)) return;
          let r: { transaction?: unknown; status?: unknown; checkpoint?: unknown; error?: { code?: unknown; message?: unknown } };
          try {
            r = JSON.parse(payload.toString('utf8')) as typeof r;
          } catch {
            return;
          }
          if (transaction !== null && r.transaction !== transaction) return;
          answers += 1;
          if (r.status !== 'applied') rejected += 1;
          answered.add(topic.split('/').at(-3) ?? String(r.checkpoint));
          process.stdout.write(`${payload.toString('utf8')}\n`);
          const err = r.error ? `: ${String(r.error.code)} ${String(r.error.message)}` : '';
          process.stderr.write(`${topic}: ${String(r.status)}${err}\n`);
          if (allIn()) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      await client.publishAsync(`${o.prefix}/${site}/${checkpoint}/cmd/${kind}`, token, { qos: 1, retain: o.retain === true });
      const waitingFor =
        expected.size > 0
          ? `waiting up to ${waitMs} ms for ${[...expected].sort().join(', ')}${checkpoint === ALL ? (listed ? ' (--expect)' : ' (online now)') : ''}`
          : `no checkpoint of ${site} is online now; waiting ${waitMs} ms for any answer`;
      process.stderr.write(`published ${kind} to ${site}/${checkpoint}${transaction ? ` (transaction ${transaction})` : ''}; ${waitingFor}\n`);
      await done;
    } finally {
      await client.endAsync();
    }
    const missing = [...expected].filter((c) => !answered.has(c)).sort();
    const later = `the broker queues the update for a gateway that connected before and it answers when it reconnects${o.retain ? '; the retained copy also reaches one that never connected' : '; --retain also reaches one that never connected'}`;
    if (answers === 0) throw new CentralCliError(`no response within ${waitMs} ms (is the gateway connected? ${later})`);
    const problems = [
      ...(missing.length > 0 ? [`no answer within ${waitMs} ms from ${missing.join(', ')} (answered: ${[...answered].sort().join(', ')}; ${later})`] : []),
      ...(rejected > 0 ? [`${rejected} of ${answers} response(s) rejected the update`] : []),
    ];
    if (problems.length > 0) throw new CentralCliError(problems.join('; '));
  });

  // The office service itself and its database. Loaded on demand: the gateway's own
  // commands (and the gateway process) never load central/.
  central
    .command('serve')
    .description('run the central office service (the same as npm run central); see docs/central.md')
    .option('--config <file>', 'service configuration (default CENTRAL_CONFIG or config/central.yaml)')
    .action(async (o: { config?: string }) => {
      const { serve } = await import('../../central/main.js');
      const { centralConfigPath } = await import('../../central/config.js');
      await serve(o.config ?? centralConfigPath());
      // serve() returns once started; the service runs until SIGINT/SIGTERM.
      await new Promise<never>(() => undefined);
    });

  central
    .command('events')
    .description('the newest events in the office database, newest first')
    .option('--checkpoint <id>', 'only this checkpoint: <checkpoint> or <site>/<checkpoint>')
    .option('--since <time>', 'only events at or after this ISO time')
    .option('--limit <n>', 'how many (1-10000)', '20')
    .option('--json', 'one JSON object per line')
    .option('--config <file>', 'service configuration (default CENTRAL_CONFIG or config/central.yaml)')
    .action(async (o: { checkpoint?: string; since?: string; limit: string; json?: boolean; config?: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CentralCliError(`--limit: expected a whole number 1-10000, got "${o.limit}"`);
      const q: { site?: string; checkpoint?: string; since?: number; limit: number } = { limit };
      if (o.checkpoint !== undefined) {
        const [a, b] = o.checkpoint.split('/');
        if (b === undefined) q.checkpoint = id(a ?? '', '--checkpoint');
        else {
          q.site = id(a ?? '', '--checkpoint (site)');
          q.checkpoint = id(b, '--checkpoint');
        }
      }
      if (o.since !== undefined) {
        const ms = Date.parse(o.since);
        if (Number.isNaN(ms)) throw new CentralCliError(`--since: expected an ISO date or timestamp, got "${o.since}"`);
        q.since = ms;
      }
      const { readEvents } = await import('../../central/cli.js');
      const { events, source } = await readEvents(o.config, q);
      const { formatEvent } = await import('../../central/query.js');
      for (const e of [...events].reverse()) process.stdout.write(o.json ? `${JSON.stringify(e)}\n` : `${formatEvent({ ...e, at: chinaTime(e.at) })}\n`);
      process.stderr.write(`${events.length} event${events.length === 1 ? '' : 's'} (${source})\n`);
    });

  // Officer accounts of the office console (central/web); secret read like `guards add`.
  const officers = central.command('officers').description('officer accounts of the office console (id, name, role, password); see docs/central.md');
  officers
    .command('add <id>')
    .description('add an officer; the password (10-128 characters) is read from standard input, twice without echo on a terminal')
    .requiredOption('--name <name>', "the officer's name as shown on the console")
    .requiredOption('--role <role>', 'viewer, duty-leader or admin')
    .option('--config <file>', 'service configuration (default CENTRAL_CONFIG or config/central.yaml)')
    .action(async (officerId: string, o: { name: string; role: string; config?: string }) => {
      const { withOfficers } = await import('../../central/cli.js');
      const { checkSecret } = await import('../../central/web/officers.js');
      const password = await readPassword(checkSecret);
      checkSecret(password);
      await withOfficers(o.config, (accounts) => accounts.add({ id: officerId, name: o.name, role: o.role, secret: password }, cliClient()));
      process.stderr.write(`officer ${officerId} (${o.name}, ${o.role}) added\n`);
    });
  officers
    .command('remove <id>')
    .description('remove an officer; their sessions end with the account')
    .option('--config <file>', 'service configuration (default CENTRAL_CONFIG or config/central.yaml)')
    .action(async (officerId: string, o: { config?: string }) => {
      const { withOfficers } = await import('../../central/cli.js');
      await withOfficers(o.config, (accounts) => accounts.remove(officerId, cliClient()));
      process.stderr.write(`officer ${officerId} removed\n`);
    });
  officers
    .command('list')
    .description('list the officers (id, role, name, locked until)')
    .option('--json', 'one JSON object per line')
    .option('--config <file>', 'service configuration (default CENTRAL_CONFIG or config/central.yaml)')
    .action(async (o: { json?: boolean; config?: string }) => {
      const { withOfficers } = await import('../../central/cli.js');
      const list = await withOfficers(o.config, (accounts) => accounts.list());
      for (const x of list) {
        if (o.json) process.stdout.write(`${JSON.stringify({ id: x.id, name: x.name, role: x.role, lockedUntil: x.lockedUntil === null ? null : new Date(x.lockedUntil).toISOString() })}\n`);
        else process.stdout.write(`${x.id.padEnd(16)}  ${x.role.padEnd(11)}  ${x.name}${x.lockedUntil === null ? '' : `  LOCKED until ${chinaTime(x.lockedUntil)}`}\n`);
      }
      process.stderr.write(`${list.length} officer${list.length === 1 ? '' : 's'}\n`);
    });

  addBrokerOptions(
    central
      .command('tail')
      .description('print events, alerts, daily screening summaries, status, stats and responses of every checkpoint; duplicates dropped')
      .option('--site <site>', 'only this site (default all sites)')
      .option('--count <n>', 'exit after this many messages (default: run until interrupted)')
      .option('--json', 'one JSON object per line: {topic, payload} (default: readable lines, China time)'),
  ).action(async (o: BrokerFlags & { site?: string; count?: string; json?: boolean }) => {
    const site = o.site === undefined ? '+' : id(o.site, '--site');
    const max = o.count === undefined ? Infinity : Number(o.count);
    if (!(max >= 1)) throw new CentralCliError(`--count: expected a number ≥ 1, got "${o.count}"`);
    const client = await connectBroker(o, 'tail');
    const seen = new Set<string>();
    let printed = 0;
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      client.on('message', (topic, payload) => {
        const text = payload.toString('utf8');
        if (text === '') return; // a retained message being cleared
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON: printed as is
        }
        // Events, alerts and summaries are sent at least once: the id (a summary: its
        // checkpoint and date) is how the office drops repeats.
        const key = /\/(events|alerts)$/.test(topic) && typeof body.id === 'string' ? body.id : /\/screening$/.test(topic) && typeof body.date === 'string' ? `${topic} ${body.date}` : null;
        if (key !== null) {
          if (seen.has(key)) return;
          seen.add(key);
          if (seen.size > 1_000_000) seen.clear();
        }
        process.stdout.write(o.json ? `${JSON.stringify({ topic, payload: body })}\n` : `${formatTailLine(topic, text, o.prefix, Date.now())}\n`);
        printed += 1;
        if (printed >= max) resolve();
      });
      client
        .subscribeAsync(
          ['events', 'alerts', 'screening', 'status', 'stats', 'response/#'].map((t) => `${o.prefix}/${site}/+/${t}`),
          { qos: 1 },
        )
        .then(() => process.stderr.write(`tailing ${o.prefix}/${site}/+/{events,alerts,screening,status,stats,response} on ${o.url}\n`))
        .catch((err: unknown) => {
          process.stderr.write(`error: subscribe failed: ${(err as Error).message}\n`);
          resolve();
        });
    });
    await client.endAsync();
  });
}
