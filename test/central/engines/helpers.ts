// The parts the engine tests share: the three MQTT engines (Mosquitto, RabbitMQ's MQTT
// plugin, NATS with JetStream), a relay that takes a gateway's network link down and up,
// the office's config per engine (the process itself: ../process.ts), its database, and a
// whole in-process gateway taking real decisions.
// An absent engine fails the test with what to do, never skips it.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { connect } from 'mqtt';
import pg from 'pg';
import { loadConfig } from '../../../gateway/config/load.js';
import { issuePass } from '../../../gateway/credentials/issue.js';
import { startGateway, type RunningGateway } from '../../../gateway/gateway.js';
import { isListening } from '../../../gateway/telemetry/embedded-broker.js';
import { type Cleanup, freePort, restartableProcess, silentLogger, tempDir, waitFor } from '../../gateway/telemetry/helpers.js';
import { ROOT, writeConfig } from '../../integration/helpers.js';
import { metricsTokenFile, PG_URL, testDatabase } from '../helpers.js';

/** How the gateway and the office reach one engine; the only things that differ per engine. */
export interface Engine {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly protocolVersion: 4 | 5;
  /** MQTT 5 shared subscription group for the office, where the engine has them. */
  readonly sharedGroup?: string;
  readonly username?: string;
  readonly password?: string;
}

/** Throws (fails the test) with `hint` when nothing listens on host:port. */
export async function requireListening(host: string, port: number, hint: string): Promise<void> {
  if (!(await isListening(host, port, 2000))) throw new Error(hint);
}

/** The machine's Mosquitto (127.0.0.1:1883): MQTT 5, so the office uses a shared subscription. */
export async function mosquitto(): Promise<Engine> {
  await requireListening('127.0.0.1', 1883, 'Mosquitto not listening on 127.0.0.1:1883: run .ci/run or start mosquitto');
  return { name: 'Mosquitto', host: '127.0.0.1', port: 1883, url: 'mqtt://127.0.0.1:1883', protocolVersion: 5, sharedGroup: 'office' };
}

/** RabbitMQ's MQTT plugin on 127.0.0.1:1884 (enabled by .ci/run): MQTT 3.1.1 only. */
export async function rabbitmq(): Promise<Engine> {
  await requireListening('127.0.0.1', 1884, 'RabbitMQ MQTT plugin not listening on 127.0.0.1:1884: run .ci/run or enable rabbitmq_mqtt');
  return { name: 'RabbitMQ', host: '127.0.0.1', port: 1884, url: 'mqtt://127.0.0.1:1884', protocolVersion: 4, username: 'guest', password: 'guest' };
}

const NATS_SERVER = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p));

export interface NatsServer extends Engine {
  /** Stops the server (SIGTERM, waits for exit); JetStream keeps sessions on disk. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * A NATS server of the test's own with JetStream (MQTT sessions live in its streams) and
 * its MQTT listener, on free ports. `mqtt.ack_wait` is how long NATS waits for a PUBACK
 * before it redelivers; the office acknowledges after its commit, well within 5 s.
 */
export async function natsServer(cleanup: Cleanup): Promise<NatsServer> {
  if (NATS_SERVER === undefined) throw new Error('nats-server not found (/usr/sbin/nats-server): install it (apt-get install nats-server) or run .ci/run');
  const dir = await tempDir(cleanup, 'nats');
  const [clientPort, mqttPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'nats.conf');
  await writeFile(
    conf,
    [
      `server_name: test_${randomUUID().slice(0, 8)}`,
      `listen: 127.0.0.1:${clientPort}`,
      `jetstream { store_dir: ${JSON.stringify(path.join(dir, 'js'))} }`,
      `mqtt { listen: 127.0.0.1:${mqttPort}, ack_wait: "5s" }`,
      '',
    ].join('\n'),
  );
  const { start, stop } = restartableProcess(
    cleanup,
    `nats-server (MQTT on ${mqttPort})`,
    NATS_SERVER,
    ['-c', conf],
    async (log) => log.includes('Server is ready') && (await isListening('127.0.0.1', mqttPort, 500)),
  );
  await start();
  return { name: 'NATS', host: '127.0.0.1', port: mqttPort, url: `mqtt://127.0.0.1:${mqttPort}`, protocolVersion: 4, stop, start };
}

export interface LinkRelay {
  readonly url: string;
  /** Resets every relayed connection and refuses new ones: the site's uplink is gone. */
  down(): void;
  /** Relays new connections again. */
  up(): void;
}

/**
 * A TCP relay between a gateway and its broker. Down, it resets the current connections
 * (no DISCONNECT: the broker sends the last will) and closes each new one at once, so the
 * gateway keeps retrying as over a dead uplink; the broker and the office stay up.
 */
export async function linkRelay(cleanup: Cleanup, engine: Engine): Promise<LinkRelay> {
  const sockets = new Set<net.Socket>();
  let isUp = true;
  const server = net.createServer((downstream) => {
    if (!isUp) {
      downstream.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: engine.host, port: engine.port });
    for (const s of [downstream, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('close', () => {
        sockets.delete(s);
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  cleanup.add(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    url: `mqtt://127.0.0.1:${port}`,
    down() {
      isUp = false;
      for (const s of sockets) s.resetAndDestroy();
    },
    up() {
      isUp = true;
    },
  };
}

/** A database of its own (a service process cannot be given a schema) and a pool to read it. */
export async function officeDatabase(cleanup: Cleanup): Promise<{ url: string; pool: pg.Pool }> {
  const url = await testDatabase(cleanup).catch((err: unknown) => {
    throw new Error(`PostgreSQL not reachable at ${PG_URL} (TEST_DATABASE_URL overrides): ${(err as Error).message}`);
  });
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  cleanup.add(() => pool.end());
  return { url, pool };
}

export interface CentralOptions {
  engine: Engine;
  dir: string;
  databaseUrl: string;
  prefix: string;
  clientId: string;
  batchMax?: number;
}

/** config/central.yaml for a test service: only URL, protocol version and credentials follow the engine. */
export function writeCentralConfig(o: CentralOptions): string {
  const { engine } = o;
  const lines = [
    // info: the "ready" and "connected to the broker" lines are what the test waits on.
    `logLevel: ${process.env.TEST_LOG ?? 'info'}`,
    `dataDir: ${JSON.stringify(o.dir)}`,
    'database:',
    `  url: ${JSON.stringify(o.databaseUrl)}`,
    'mqtt:',
    `  url: ${engine.url}`,
    `  protocolVersion: ${engine.protocolVersion}`,
    `  clientId: ${o.clientId}`,
    `  topicPrefix: ${o.prefix}`,
    ...(engine.sharedGroup ? [`  sharedGroup: ${engine.sharedGroup}`] : []),
    ...(engine.username ? [`  username: ${engine.username}`, `  passwordFile: ${JSON.stringify(passwordFile(o.dir, engine))}`] : []),
    `http: { host: 127.0.0.1, port: 0, metricsTokenFile: ${JSON.stringify(metricsTokenFile(o.dir))} }`,
    `ingest: { batchMax: ${o.batchMax ?? 500}, batchMs: 20 }`,
    // Gap repair is not what these tests are about: never within a test's lifetime.
    'gapRepair: { afterMs: 600000, retryMs: 600000, checkMs: 600000 }',
  ];
  const file = path.join(o.dir, `central-${o.clientId}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function passwordFile(dir: string, engine: Engine): string {
  const file = path.join(dir, `${engine.name.toLowerCase()}.password`);
  writeFileSync(file, `${engine.password ?? ''}\n`, { mode: 0o600 });
  return file;
}

/**
 * Removes a persistent session the test left on a shared engine (RabbitMQ keeps a durable
 * queue per session for ever): connect with the same client id and a clean session.
 */
export async function forgetSession(engine: Engine, clientId: string): Promise<void> {
  const client = connect(engine.url, {
    clientId,
    protocolVersion: engine.protocolVersion,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...(engine.username ? { username: engine.username, password: engine.password ?? '' } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  } finally {
    await client.endAsync(true);
  }
}

/** Removes a retained message (the gateway's status) from a shared engine. */
export async function clearRetained(engine: Engine, topic: string): Promise<void> {
  const client = connect(engine.url, {
    clientId: `test-clear-${randomUUID().slice(0, 8)}`,
    protocolVersion: engine.protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...(engine.username ? { username: engine.username, password: engine.password ?? '' } : {}),
  });
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

/**
 * The whole gateway in-process (real SQLite, real lanes, simulated devices) from the demo
 * config with its own site; only the MQTT URL, protocol version and credentials change.
 */
export async function startTestGateway(cleanup: Cleanup, o: { engine: Engine; url: string; prefix: string; site: string; dir: string }): Promise<RunningGateway> {
  const { engine } = o;
  const file = writeConfig(o.dir, o.site);
  const mqtt = [
    'mqtt:',
    `  url: ${o.url}`,
    `  topicPrefix: ${o.prefix}`,
    `  clientId: gw-${o.site}`,
    '  embeddedFallback: false',
    `  protocolVersion: ${engine.protocolVersion}`,
    ...(engine.username ? [`  username: ${engine.username}`, `  passwordFile: ${JSON.stringify(passwordFile(o.dir, engine))}`] : []),
    '',
  ].join('\n');
  const text = readFileSync(file, 'utf8');
  const replaced = text.replace(/^mqtt:\n(?:[ \t]+.*\n)*/m, mqtt);
  if (replaced === text) throw new Error('the demo config has no mqtt: block to replace');
  writeFileSync(file, replaced);
  const loaded = loadConfig(file, { HTTP_PORT: '0' });
  // After the gateway's stop (its clean offline status), nothing retained stays behind.
  cleanup.add(() => clearRetained(engine, `${o.prefix}/${o.site}/${loaded.config.checkpoint}/status`));
  const gw = await startGateway(loaded, { logger: silentLogger() });
  cleanup.add(() => gw.stop());
  return gw;
}

/** n admitted passages on the gateway's first lane (a signed demo pass, a normal temperature). */
export async function takeDecisions(gw: RunningGateway, n: number): Promise<void> {
  const key = JSON.parse(readFileSync(path.join(ROOT, 'config/demo/issuer-1.private.jwk.json'), 'utf8')) as Parameters<typeof issuePass>[1];
  const now = Date.now();
  const pass = await issuePass(
    {
      sub: 'engine-test-person',
      name: '赵六',
      category: 'employee',
      healthCode: 'green',
      travel: { riskLevel: 'none', visits: [], asOf: new Date(now).toISOString() },
      test: { result: 'negative', sampledAt: new Date(now - 3600_000).toISOString() },
    },
    key,
    { now },
  );
  const lane = gw.lanes[0]!;
  for (let i = 0; i < n; i++) {
    lane.sim!.temperature(36.5);
    lane.sim!.scan(pass);
    await lane.settled();
  }
}

export interface StoredEvent {
  id: string;
  seq: number;
  historical: boolean;
  received_at: Date;
}

/** The office's event rows of one site, by seq. */
export async function storedEvents(pool: pg.Pool, site: string): Promise<StoredEvent[]> {
  try {
    const r = await pool.query<StoredEvent>(
      'SELECT id::text AS id, seq::int AS seq, historical, received_at FROM events WHERE site = $1 ORDER BY seq, received_at',
      [site],
    );
    return r.rows;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return []; // before the service's migrations
    throw err;
  }
}

export async function countEvents(pool: pg.Pool, site: string): Promise<number> {
  try {
    const r = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE site = $1', [site]);
    return r.rows[0]?.n ?? 0;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return 0;
    throw err;
  }
}
