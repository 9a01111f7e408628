// Shared parts of the telemetry tests: temp dirs, free ports, a per-test store and
// topics, link options, subscribers, a private Mosquitto, a TCP proxy that can cut a
// connection, throwaway TLS certificates, and ledger rows. Everything made here is registered for cleanup, so a failing test
// still leaves nothing behind.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import type { LinkStatus } from '../../../gateway/bus.js';
import { openStore, type SqliteStore } from '../../../gateway/store/index.js';
import type { LedgerEntry, NewLedgerEntry, Store } from '../../../gateway/store/types.js';
import type { ConnectTelemetryOptions } from '../../../gateway/telemetry/connect.js';
import { isListening } from '../../../gateway/telemetry/embedded-broker.js';
import { eventMessage, type EventMessageV1 } from '../../../gateway/telemetry/event-message.js';
import { MqttLink, type MqttLinkOptions, type StatusSource } from '../../../gateway/telemetry/link.js';
import { type CheckpointTopics, topicsFor } from '../../../gateway/telemetry/topics.js';
import { checkMessage } from './asyncapi.js';

export const SHARED_BROKER = 'mqtt://127.0.0.1:1883';
export const CTX = { site: 'mine-a', checkpoint: 'gate-1' } as const;

/** Silent unless TEST_LOG=debug (or another pino level) is set, for diagnosing a failure. */
export function silentLogger(): Logger {
  return pino({ level: process.env.TEST_LOG ?? 'silent' }, pino.destination(2));
}

/** A topic prefix no other test (or other engineer) on the shared broker uses. */
export function uniquePrefix(): string {
  return `test-${randomUUID()}`;
}

export function uniqueClientId(what: string): string {
  return `test-${what}-${randomUUID().slice(0, 12)}`;
}

/** Cleanup actions, run last-in first-out; each failure is reported, none stops the rest. */
export class Cleanup {
  readonly #actions: (() => Promise<void> | void)[] = [];

  add(action: () => Promise<void> | void): void {
    this.#actions.push(action);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const action of this.#actions.splice(0).reverse()) {
      try {
        await action();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}

export async function tempDir(cleanup: Cleanup, what: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `telemetry-${what}-`));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** What a link test starts from: its cleanup list, a store in a temp dir, its own topics. */
export interface StoreFixture {
  cleanup: Cleanup;
  store: SqliteStore;
  topics: CheckpointTopics;
}

/**
 * Made in beforeEach; the test's afterEach runs `cleanup`. With `clearStatusOn`, the
 * retained status the test leaves on that (shared) broker is removed at cleanup.
 */
export async function storeFixture(
  what: string,
  opts: { storeNow?: () => number; clearStatusOn?: string } = {},
): Promise<StoreFixture> {
  const cleanup = new Cleanup();
  try {
    const topics = topicsFor({ prefix: uniquePrefix(), ...CTX });
    const store = openStore(await tempDir(cleanup, what), opts.storeNow ? { now: opts.storeNow } : {});
    cleanup.add(() => store.close());
    const broker = opts.clearStatusOn;
    if (broker !== undefined) cleanup.add(() => clearRetained(broker, topics.status));
    return { cleanup, store, topics };
  } catch (err) {
    // No afterEach can reach this cleanup list yet: undo what was made here.
    await cleanup.run().catch(() => undefined);
    throw err;
  }
}

/** The options every test's connection shares: shared broker, silent log, test birth facts. */
function commonOptions(store: Store, topics: CheckpointTopics) {
  return {
    url: SHARED_BROKER,
    topics,
    outbox: store,
    logger: silentLogger(),
    now: Date.now,
    onStatus: () => undefined,
    statusSource: testStatusSource(),
    // Each test has its own client id: its persistent session should not outlive it long.
    sessionExpiryS: 60,
  };
}

/** connectTelemetry() options; a test overrides what it is about (the URL, mostly). */
export function telemetryOptions(
  store: Store,
  topics: CheckpointTopics,
  overrides: Partial<ConnectTelemetryOptions> = {},
): ConnectTelemetryOptions {
  return { ...commonOptions(store, topics), clientId: uniqueClientId('gw'), ...overrides };
}

/** MqttLink options: MQTT 5 and a quick reconnect, so outages in tests resolve fast. */
export function linkOptions(
  store: Store,
  topics: CheckpointTopics,
  overrides: Partial<MqttLinkOptions> = {},
): MqttLinkOptions {
  return {
    ...commonOptions(store, topics),
    clientId: uniqueClientId('link'),
    protocolVersion: 5,
    reconnectMinMs: 50,
    reconnectMaxMs: 300,
    ...overrides,
  };
}

/** A started link, stopped at cleanup. */
export function startMqttLink(cleanup: Cleanup, options: MqttLinkOptions): MqttLink {
  const link = new MqttLink(options);
  cleanup.add(() => link.stop());
  link.start();
  return link;
}

/** A port nothing listens on right now (the OS picks it, we release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until the condition holds; no timing assertion, just a generous upper bound. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

export interface Subscriber {
  readonly client: MqttClient;
  readonly messages: Received[];
  /** Event payloads received so far, duplicates removed (first one kept). */
  events(): EventMessageV1[];
  payloads(topic: string): string[];
}

/** A subscriber that is connected and subscribed when this resolves. */
export async function subscribe(
  cleanup: Cleanup,
  url: string,
  topics: string[],
  opts: { protocolVersion?: 4 | 5; clientId?: string; clean?: boolean; tls?: TlsFiles } = {},
): Promise<Subscriber> {
  const tls: Partial<IClientOptions> = opts.tls ? { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key } : {};
  const client = connect(url, {
    ...tls,
    clientId: opts.clientId ?? uniqueClientId('sub'),
    protocolVersion: opts.protocolVersion ?? 4,
    clean: opts.clean ?? true,
    reconnectPeriod: 100,
    connectTimeout: 5000,
  });
  cleanup.add(() => client.endAsync(true));
  const messages: Received[] = [];
  const schemaProblems: string[] = [];
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString('utf8');
    messages.push({ topic, payload: text, retain: packet.retain });
    schemaProblems.push(...checkMessage(topic, text));
  });
  // Every message a test saw must follow docs/asyncapi.yaml: checked when the test ends.
  cleanup.add(() => {
    if (schemaProblems.length > 0) throw new Error(`messages not matching docs/asyncapi.yaml:\n${schemaProblems.slice(0, 10).join('\n')}`);
  });
  client.on('error', () => undefined); // reconnects by itself; the test waits on outcomes
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return {
    client,
    messages,
    events() {
      const seen = new Set<string>();
      const out: EventMessageV1[] = [];
      for (const m of messages) {
        if (!m.topic.endsWith('/events')) continue;
        const e = JSON.parse(m.payload) as EventMessageV1;
        if (seen.has(e.id)) continue;
        seen.add(e.id);
        out.push(e);
      }
      return out;
    },
    payloads(topic) {
      return messages.filter((m) => m.topic === topic).map((m) => m.payload);
    },
  };
}

/** Removes a retained message we left on the shared broker. */
export async function clearRetained(url: string, topic: string): Promise<void> {
  const client = connect(url, { clientId: uniqueClientId('clear'), reconnectPeriod: 0, connectTimeout: 5000 });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.publishAsync(topic, '', { qos: 1, retain: true });
  } finally {
    await client.endAsync(true);
  }
}

/** A session counter and fixed birth facts, as the gateway supplies them. */
export function testStatusSource(): StatusSource {
  let n = 0;
  return {
    nextSession: () => ++n,
    birth: () => ({ site: CTX.site, checkpoint: CTX.checkpoint, version: '0.0.0-test', configHash: `sha256:${'0'.repeat(32)}`, lanes: [] }),
  };
}

/** The `state` of a status payload (JSON since version 1), or null. */
export function stateOf(payload: string | undefined): string | null {
  try {
    const v = JSON.parse(payload ?? '') as { state?: unknown };
    return typeof v.state === 'string' ? v.state : null;
  } catch {
    return null;
  }
}

/** Collects the link's status reports. */
export function statusLog(): { statuses: LinkStatus[]; onStatus: (s: LinkStatus) => void; last(): LinkStatus | undefined } {
  const statuses: LinkStatus[] = [];
  return { statuses, onStatus: (s) => statuses.push(s), last: () => statuses.at(-1) };
}

let entryCounter = 0;

export function newEntry(overrides: Partial<NewLedgerEntry> = {}): NewLedgerEntry {
  entryCounter += 1;
  return {
    id: randomUUID(),
    at: Date.UTC(2022, 11, 5, 8, 0, 0) + entryCounter * 1000,
    lane: 'lane-1',
    kind: 'decision',
    outcome: 'admit',
    reasons: [],
    alerts: [],
    credential: 'health-pass',
    subjectRef: null,
    subjectName: null,
    category: 'employee',
    temperature: 36.5,
    ...overrides,
  };
}

/** Writes n decisions (ledger + outbox row each) the way the gateway does. */
export function writeRows(store: Store, topics: CheckpointTopics, n: number): LedgerEntry[] {
  const rows: LedgerEntry[] = [];
  for (let i = 0; i < n; i++) {
    rows.push(
      store.appendDecision(newEntry(), (r) => ({ topic: topics.events, payload: eventMessage(r, CTX), qos: 1 })),
    );
  }
  return rows;
}

/** A server process a test can stop (SIGTERM, waits for exit) and start again with the same arguments. */
export interface Restartable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs `cmd args` until the test's cleanup; `start` resolves once `ready(stderr so far)`
 * holds, and fails with the process's stderr if it exits first. Not started yet: call start.
 */
export function restartableProcess(
  cleanup: Cleanup,
  name: string,
  cmd: string,
  args: string[],
  ready: (stderr: string) => boolean | Promise<boolean>,
): Restartable {
  let child: ChildProcess | null = null;
  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  const start = async (): Promise<void> => {
    if (child) throw new Error(`${name} already running`);
    const c = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child = c;
    await waitFor(`${name} ready`, async () => {
      if (c.exitCode !== null) throw new Error(`${name} exited with ${c.exitCode}: ${stderr.trim().slice(-2000)}`);
      return ready(stderr);
    });
  };
  cleanup.add(stop);
  return { start, stop };
}

const MOSQUITTO = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';

export interface PrivateMosquitto {
  readonly port: number;
  readonly url: string;
  /** Stops this broker (SIGTERM, waits for exit; it saves its persistence file). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same config. */
  start(): Promise<void>;
}

/**
 * A Mosquitto of the test's own on a free port, with persistence so a durable
 * subscriber's session and queued messages survive a restart of the broker.
 */
export async function privateMosquitto(cleanup: Cleanup, opts: { config?: (dir: string) => string[] } = {}): Promise<PrivateMosquitto> {
  const dir = await tempDir(cleanup, 'mosquitto');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      ...(opts.config ? opts.config(dir) : ['allow_anonymous true']),
      // Mosquitto's default (1000) silently drops QoS 1 messages to a slow subscriber.
      'max_queued_messages 0',
      'persistence true',
      `persistence_location ${dir}/`,
      'log_dest none',
      // Started as root, Mosquitto drops to user `mosquitto`, which cannot write our
      // temp dir: persistence would silently fail. Stay the user that runs the tests.
      `user ${userInfo().username}`,
      '',
    ].join('\n'),
  );
  const { start, stop } = restartableProcess(cleanup, `private mosquitto on ${port}`, MOSQUITTO, ['-c', conf], () => isListening('127.0.0.1', port, 500));
  await start();
  return { port, url: `mqtt://127.0.0.1:${port}`, stop, start };
}

/** PEM contents for an mqtts:// client: the CA it trusts, its certificate and key. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/** A throwaway PKI, all PEM files in `dir` (paths) and their contents (pem). */
export interface TestPki {
  readonly dir: string;
  /** The CA that signed every certificate below. */
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** A CA of its own that signed nothing the broker presents. */
  readonly otherCaFile: string;
  /** Paths of a client certificate (CN = the name given) and its key. */
  clientFiles(name: string): { cert: string; key: string };
  /** PEM contents: the CA and the client certificate and key of `name`. */
  client(name: string): Promise<TlsFiles>;
  pem(file: string): Promise<string>;
}

const execFileAsync = promisify(execFile);

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd: dir });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('these tests need the `openssl` command, which is not installed');
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.trim() ?? e.message}`);
  }
}

/**
 * A CA, a server certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1) and one client
 * certificate per name in `clients`, made with the `openssl` command in a temp dir, plus
 * an unrelated second CA. EC P-256 keys (fast to make), valid for two days.
 */
export async function testPki(cleanup: Cleanup, clients: string[]): Promise<TestPki> {
  const dir = await tempDir(cleanup, 'pki');
  await writeFile(
    path.join(dir, 'openssl.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      '[ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '[server]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1',
      '[client]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = clientAuth',
      '',
    ].join('\n'),
  );
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const makeCa = (name: string): Promise<void> =>
    openssl(dir, ['req', '-x509', ...key, '-config', 'openssl.cnf', '-extensions', 'ca', '-subj', `/CN=${name}`,
      '-days', '2', '-keyout', `${name}.key`, '-out', `${name}.crt`]);
  let serial = 0;
  const issue = async (name: string, cn: string, ext: 'server' | 'client'): Promise<void> => {
    await openssl(dir, ['req', '-new', ...key, '-config', 'openssl.cnf', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
    serial += 1;
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'test-ca.crt', '-CAkey', 'test-ca.key', '-set_serial', String(serial),
      '-days', '2', '-extfile', 'openssl.cnf', '-extensions', ext, '-out', `${name}.crt`]);
  };
  await Promise.all([makeCa('test-ca'), makeCa('other-ca')]);
  await issue('server', '127.0.0.1', 'server');
  for (const name of clients) await issue(`client-${name}`, name, 'client');

  const file = (name: string): string => path.join(dir, name);
  const pem = (f: string): Promise<string> => readFile(f, 'utf8');
  const clientFiles = (name: string): { cert: string; key: string } => {
    if (!clients.includes(name)) throw new Error(`no client certificate for ${name}`);
    return { cert: file(`client-${name}.crt`), key: file(`client-${name}.key`) };
  };
  return {
    dir,
    caFile: file('test-ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    otherCaFile: file('other-ca.crt'),
    clientFiles,
    async client(name) {
      const f = clientFiles(name);
      return { ca: await pem(file('test-ca.crt')), cert: await pem(f.cert), key: await pem(f.key) };
    },
    pem,
  };
}

/**
 * Mosquitto config lines for a TLS listener that requires a client certificate signed by
 * the test CA; the certificate's CN becomes the username.
 */
export function tlsListenerConfig(pki: TestPki): string[] {
  return [
    `cafile ${pki.caFile}`,
    `certfile ${pki.serverCertFile}`,
    `keyfile ${pki.serverKeyFile}`,
    'require_certificate true',
    'use_identity_as_username true',
    'allow_anonymous false',
  ];
}

export interface TcpProxy {
  readonly port: number;
  /** Stops forwarding broker → client on current connections (PUBACKs never arrive). */
  holdReplies(): void;
  /** Resets every current connection (no MQTT DISCONNECT) but keeps accepting new ones. */
  drop(): void;
  /** Stops accepting and resets every connection. */
  cut(): Promise<void>;
}

/** A TCP relay in front of a broker, so a test can kill a client's connection abruptly. */
export async function tcpProxy(cleanup: Cleanup, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<{ downstream: net.Socket; upstream: net.Socket }>();
  const server = net.createServer((downstream) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    const pair = { downstream, upstream };
    pairs.add(pair);
    for (const s of [downstream, upstream]) {
      s.on('error', () => undefined);
      s.once('close', () => {
        pairs.delete(pair);
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const drop = (): void => {
    for (const { downstream, upstream } of pairs) {
      // A reset towards the broker: to it, the client vanished (power cut, cable pulled).
      upstream.resetAndDestroy();
      downstream.resetAndDestroy();
    }
  };
  let closed: Promise<void> | null = null;
  const cut = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      drop();
    });
    return closed;
  };
  cleanup.add(cut);
  return {
    port,
    holdReplies() {
      for (const { downstream, upstream } of pairs) {
        upstream.unpipe(downstream);
        upstream.pause();
      }
    },
    drop,
    cut,
  };
}
