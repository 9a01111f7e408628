// Wires the central office service: database (migrations, partitions), the MQTT link,
// the batcher, the gap detector, the retention job and HTTP. One class, start()/stop().
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import { VERSION } from '../gateway/version.js';
import { ChainCheck } from './chain-check.js';
import { classify, type Classified } from './classify.js';
import type { LoadedCentralConfig } from './config.js';
import { openDb, type Db } from './db/adapter.js';
import { migrate } from './db/migrations.js';
import { Partitions, addMonths, monthOf } from './db/partitions.js';
import { CentralError } from './errors.js';
import { GapDetector } from './gaps.js';
import { createHttpApp, listen, type CentralHealth } from './http.js';
import { ChangeFeed } from './web/changes.js';
import { readMetricsToken } from '../gateway/http/access.js';
import { writeCliToken } from './web/cli-token.js';
import { Ingest } from './ingest.js';
import { OfficeLink } from './link.js';
import { createMetrics, type CentralMetrics } from './metrics.js';
import { UpdatePusher } from './push.js';
import { loadValidators } from './schemas.js';
import { SiteKeys } from './sites.js';

export interface CentralServiceOptions {
  logger: Logger;
  /** Database schema to use (tests: one per test); default the URL's default (public). */
  dbSchema?: string;
  now?: () => number;
  /** Start the HTTP server (default true). */
  http?: boolean;
}

const RETENTION_EVERY_MS = 6 * 3600_000;

export class CentralService {
  readonly metrics: CentralMetrics;
  db!: Db;
  link!: OfficeLink;
  ingest!: Ingest;
  gaps!: GapDetector;
  chainCheck!: ChainCheck;
  partitions!: Partitions;
  pusher!: UpdatePusher;
  sites!: SiteKeys;
  #server: Server | null = null;
  /** Tells the console's open pages that new data was committed. */
  readonly changes = new ChangeFeed();
  #timers: NodeJS.Timeout[] = [];
  #dbState: { ok: boolean; detail?: string } = { ok: true };
  readonly #startedAt = Date.now();
  readonly #now: () => number;

  constructor(
    readonly loaded: LoadedCentralConfig,
    readonly opts: CentralServiceOptions,
  ) {
    this.#now = opts.now ?? Date.now;
    this.metrics = createMetrics();
  }

  get url(): string | null {
    const a = this.#server?.address() as AddressInfo | null | undefined;
    return a ? `http://${a.address}:${a.port}` : null;
  }

  async start(): Promise<void> {
    const { config, paths, databaseUrl } = this.loaded;
    const log = this.opts.logger;
    const validators = loadValidators();
    const signingKey = paths.signingKeyFile === null ? null : readKey(paths.signingKeyFile);
    this.sites = SiteKeys.load(config.sites, paths.pseudonymSecretFiles);

    this.db = await openDb({
      url: databaseUrl,
      dataDir: paths.dataDir,
      poolSize: config.database.poolSize,
      ...(this.opts.dbSchema ? { schema: this.opts.dbSchema } : {}),
      onError: (err) => this.#setDb(false, err.message),
    });
    const applied = await migrate(this.db);
    if (applied.length > 0) log.info({ applied }, 'database migrated');
    this.partitions = new Partitions(this.db);
    const month = monthOf(this.#now());
    await this.partitions.ensure([addMonths(month, -1), month, addMonths(month, 1)]);
    await this.#retention();

    const prefix = config.mqtt.topicPrefix;
    // MQTT 3.1.1 engines here (RabbitMQ 3.10) give retained status to exact topics only:
    // also subscribe each known checkpoint's status topic, from the database at start and
    // from the first committed message of a checkpoint not known yet. `auto` may end up on
    // 3.1.1 too; on MQTT 5 the wildcard gets the retained status everywhere we know of.
    const exactStatus = config.mqtt.protocolVersion !== 5;
    this.ingest = new Ingest({
      db: this.db,
      partitions: this.partitions,
      metrics: this.metrics,
      logger: log,
      batchMax: config.ingest.batchMax,
      batchMs: config.ingest.batchMs,
      concurrency: config.ingest.concurrency,
      now: this.#now,
      onDbState: (ok, detail) => this.#setDb(ok, detail),
      // Two users of a commit: the status watch (MQTT 3.1.1) and the console's live refresh.
      onCommit: (_r: unknown, items: readonly Classified[]) => {
        if (exactStatus) this.link.watchStatus(statusTopics(prefix, items));
        this.changes.committed(items);
      },
    });
    this.link = new OfficeLink({
      url: config.mqtt.url,
      protocolVersion: config.mqtt.protocolVersion,
      clientId: config.mqtt.clientId,
      prefix,
      ...(config.mqtt.sharedGroup ? { sharedGroup: config.mqtt.sharedGroup } : {}),
      sessionExpiryS: config.mqtt.sessionExpiryS,
      keepaliveS: config.mqtt.keepaliveS,
      ...(config.mqtt.username ? { username: config.mqtt.username } : {}),
      passwordFile: paths.passwordFile,
      tls: paths.tls,
      logger: log,
      onMessage: (topic, payload, ack) => {
        const item = classify(topic, payload, prefix, validators);
        this.metrics.received.inc({ type: item.type });
        if (item.type === 'ignored') ack();
        else this.ingest.push({ item, ack });
      },
    });
    this.gaps = new GapDetector({
      db: this.db,
      logger: log,
      metrics: this.metrics,
      prefix,
      afterMs: config.gapRepair.afterMs,
      retryMs: config.gapRepair.retryMs,
      instance: config.mqtt.clientId,
      signingKey,
      publish: (topic, payload) => this.link.publish(topic, payload, { qos: 1 }),
      now: this.#now,
    });
    this.pusher = new UpdatePusher({
      db: () => this.db,
      signingKey,
      prefix,
      publish: (topic, payload, o) => this.link.publish(topic, payload, o),
      now: this.#now,
    });
    if (this.opts.http !== false) {
      const app = createHttpApp(
        {
          health: () => this.health(),
          metrics: this.metrics,
          db: () => this.db,
          changes: this.changes,
          escalateAfterMs: config.console.escalateAfterMs,
          pusher: this.pusher,
          sites: this.sites,
        },
        {
          db: () => this.db,
          listenHost: config.http.host,
          allowedHosts: config.http.allowedHosts,
          metricsToken: paths.metricsTokenFile === null ? null : readMetricsToken(paths.metricsTokenFile),
          cliToken: writeCliToken(paths.dataDir),
          sessionTtlMs: config.console.sessionTtlMs,
          idleTimeoutMs: config.console.idleTimeoutMs,
          lockoutFailures: config.console.lockoutFailures,
          lockoutMs: config.console.lockoutMs,
          signInPerMinute: config.console.signInPerMinute,
          now: this.#now,
          logger: log,
        },
      );
      this.#server = await listen(app, config.http.host, config.http.port);
    }
    if (exactStatus) {
      const known = await this.db.query<{ site: string; checkpoint: string }>(
        'SELECT site, checkpoint FROM checkpoints UNION SELECT site, checkpoint FROM seq_watermarks',
      );
      this.link.watchStatus(statusTopics(prefix, known));
    }
    this.link.start();
    this.#every(config.gapRepair.checkMs, () => this.gaps.runOnce().then(() => undefined), 'gap detector');
    this.#every(RETENTION_EVERY_MS, () => this.#retention(), 'retention');
    this.chainCheck = new ChainCheck({ db: this.db, partitions: this.partitions, logger: log, now: this.#now, onAlert: () => this.changes.changed(['alerts']) });
    this.#every(config.integrity.chainCheckMs, () => this.chainCheck.runOnce().then(() => undefined), 'ledger chain check');
  }

  #every(ms: number, fn: () => Promise<void>, what: string): void {
    const t = setInterval(() => {
      fn().catch((err: unknown) => this.opts.logger.warn({ err }, `${what} failed`));
    }, ms);
    t.unref();
    this.#timers.push(t);
  }

  async #retention(): Promise<void> {
    const dropped = await this.partitions.dropOlderThan(this.loaded.config.retention.months, this.#now());
    if (dropped.length > 0) this.opts.logger.info({ dropped }, 'retention: dropped partitions');
  }

  #setDb(ok: boolean, detail?: string): void {
    this.#dbState = ok ? { ok } : { ok, ...(detail ? { detail } : {}) };
  }

  async health(): Promise<CentralHealth> {
    let db = this.#dbState;
    try {
      await this.db.query('SELECT 1');
    } catch (err) {
      db = { ok: false, detail: (err as Error).message };
    }
    const broker = this.link.state;
    const last = this.ingest.lastCommitAt;
    return {
      status: db.ok && broker.connected ? 'ok' : 'down',
      version: VERSION,
      uptimeS: Math.round((Date.now() - this.#startedAt) / 1000),
      instance: this.loaded.config.mqtt.clientId,
      database: { engine: this.db.engine, ...db },
      broker,
      backlog: this.ingest.backlog,
      lastCommitAgoMs: last === null ? null : this.#now() - last,
    };
  }

  async stop(): Promise<void> {
    for (const t of this.#timers.splice(0)) clearInterval(t);
    await this.ingest?.stop();
    this.changes.close();
    await this.link?.stop();
    if (this.#server) {
      const s = this.#server;
      this.#server = null;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    await this.db?.close();
  }
}

function statusTopics(prefix: string, of: readonly (Classified | { site: string; checkpoint: string })[]): string[] {
  const topics = new Set<string>();
  for (const it of of) if ('site' in it) topics.add(`${prefix}/${it.site}/${it.checkpoint}/status`);
  return [...topics];
}

function readKey(file: string): JWK {
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (err) {
    throw new CentralError('CENTRAL_KEY_INVALID', `updates.signingKeyFile ${file}: ${(err as Error).message}`);
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string' || typeof jwk.kid !== 'string') {
    throw new CentralError('CENTRAL_KEY_INVALID', `updates.signingKeyFile ${file}: expected a private Ed25519 JWK with a kid`);
  }
  return jwk;
}
