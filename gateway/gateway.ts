// Wires the parts of one checkpoint gateway together. Constructors only store their
// collaborators; start() brings the parts up in order and stop() takes them down in
// reverse, so a test can run a whole gateway in-process.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { SimRelay } from '../drivers/relay/sim-relay.js';
import { SimScanner } from '../drivers/scanner/sim-scanner.js';
import { SimThermometer } from '../drivers/thermometer/sim-thermometer.js';
import { GatewayBus } from './bus.js';
import type { LoadedConfig } from './config/load.js';
import type { LaneConfig } from './config/schema.js';
import { loadTrustDir } from './config/trust.js';
import { decodeCredential, type TrustList } from './credentials/index.js';
import { buildHealthReport } from './http/health.js';
import { startHttpServer } from './http/server.js';
import { Lane } from './lane/lane.js';
import type { LaneSimControls, LaneSnapshot } from './lane/types.js';
import { profileFromOverrides } from './policy/profiles.js';
import type { PolicyProfile } from './policy/types.js';
import { openStore } from './store/index.js';
import type { LedgerEntry, Store } from './store/types.js';
import { connectTelemetry, type Telemetry } from './telemetry/connect.js';
import { eventMessage, type EventMessageContext } from './telemetry/event-message.js';
import { pseudonymizer } from './telemetry/pseudonym.js';
import { topicsFor } from './telemetry/topics.js';
import { VERSION } from './version.js';

export interface GatewayOptions {
  logger: Logger;
  now?: () => number;
}

export interface RunningGateway {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:8080 */
  url: string;
  store: Store;
  bus: GatewayBus;
  lanes: Lane[];
  telemetry: Telemetry;
  stop(): Promise<void>;
}

export class GatewayStartError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'GatewayStartError';
    this.code = code;
  }
}

function readSecret(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new GatewayStartError('SECRET_UNREADABLE', `cannot read the pseudonym secret ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!/^([0-9a-fA-F]{2}){32,}$/.test(text)) {
    throw new GatewayStartError('SECRET_INVALID', `${file}: expected at least 32 bytes as hex (64+ hex digits)`);
  }
  return Buffer.from(text, 'hex');
}

export interface LaneParts {
  laneConfig: LaneConfig;
  profile: PolicyProfile;
  store: Store;
  trust: TrustList;
  /** Per-site pseudonym secret. */
  secret: Buffer;
  /** Topic of the events the outbox publishes. */
  eventsTopic: string;
  ctx: EventMessageContext;
  showMs: number;
  now: () => number;
  logger: Logger;
  /** Called after each committed ledger row (wake the outbox drain, tell the UI). */
  afterRecord: (row: LedgerEntry) => void;
  onSnapshot: (snapshot: LaneSnapshot) => void;
}

/** One lane with simulated devices, wired to the store; used by the gateway, tests and benches. */
export function buildSimLane(parts: LaneParts): { lane: Lane; scanner: SimScanner; thermometer: SimThermometer; relay: SimRelay } {
  const { laneConfig, store, now } = parts;
  const scanner = new SimScanner(now);
  const thermometer = new SimThermometer(now);
  const relay = new SimRelay(now);
  const sim: LaneSimControls = {
    scan: (payload) => void scanner.scan(payload),
    temperature: (celsius) => void thermometer.reading(celsius),
    relayPulses: () => [...relay.pulses],
  };
  const lane = new Lane({
    config: laneConfig,
    devices: { scanner, thermometer, relay },
    sim,
    profile: parts.profile,
    showMs: parts.showMs,
    decode: (payload, at) => decodeCredential(payload, parts.trust, at),
    roster: (staffId) => store.rosterGet(staffId),
    facts: (subjectId) => ({
      watchlist: store.watchlistFor(subjectId),
      approvals: store.approvalsFor(subjectId),
      riskAreas: store.riskAreas(),
    }),
    pseudonym: pseudonymizer(parts.secret),
    record: (entry) => {
      const row = store.appendDecision(entry, (r) => ({ topic: parts.eventsTopic, payload: eventMessage(r, parts.ctx), qos: 1 }));
      parts.afterRecord(row);
      return row;
    },
    onSnapshot: parts.onSnapshot,
    now,
    logger: parts.logger,
  });
  return { lane, scanner, thermometer, relay };
}

export async function startGateway(loaded: LoadedConfig, options: GatewayOptions): Promise<RunningGateway> {
  const { config, paths } = loaded;
  const { logger } = options;
  const now = options.now ?? Date.now;
  const started = now();

  const secret = readSecret(paths.pseudonymSecretFile);
  const trust = await loadTrustDir(paths.passIssuersDir);
  const profile = profileFromOverrides(config.policy.overrides);
  const topics = topicsFor({ prefix: config.mqtt.topicPrefix, site: config.site, checkpoint: config.checkpoint });
  const store = openStore(paths.dataDir);
  const stoppers: (() => Promise<void> | void)[] = [() => store.close()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stoppers.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.error({ err }, 'error while stopping');
      }
    }
  };

  try {
    const bus = new GatewayBus((err, event) => logger.error({ err, event }, 'bus handler failed'));
    const telemetry = await connectTelemetry({
      url: config.mqtt.url,
      clientId: config.mqtt.clientId ?? `gw-${config.site}-${config.checkpoint}`,
      embeddedFallback: config.mqtt.embeddedFallback,
      topics,
      outbox: store,
      logger: logger.child({ part: 'mqtt' }),
      now,
      onStatus: (s) => bus.emit('link', s),
    });
    stoppers.push(() => telemetry.stop());

    const lanes = config.lanes.map(
      (laneConfig) =>
        buildSimLane({
          laneConfig,
          profile,
          store,
          trust,
          secret,
          eventsTopic: topics.events,
          ctx: { site: config.site, checkpoint: config.checkpoint },
          showMs: config.http.kioskResetMs,
          now,
          logger: logger.child({ part: 'lane', lane: laneConfig.id }),
          afterRecord: (row) => {
            telemetry.link.notify();
            bus.emit('ledger', row);
          },
          onSnapshot: (snapshot) => bus.emit('lane', snapshot),
        }).lane,
    );
    for (const lane of lanes) {
      await lane.start();
      stoppers.push(() => lane.stop());
    }

    const health = () =>
      buildHealthReport({
        version: VERSION,
        startedAt: started,
        now: now(),
        site: config.site,
        checkpoint: config.checkpoint,
        lanes: lanes.map((l) => l.snapshot()),
        mqtt: telemetry.link.status(),
        outboxDepth: store.outboxDepth(),
      });
    const http = await startHttpServer(
      {
        lanes,
        bus,
        store,
        health,
        logger: logger.child({ part: 'http' }),
        simEnabled: config.lanes.every((l) => l.scanner.type === 'sim' && l.thermometer.type === 'sim' && l.relay.type === 'sim'),
        kioskResetMs: config.http.kioskResetMs,
      },
      { host: config.http.host, port: config.http.port },
    );
    stoppers.push(() => http.close());

    return { url: http.url, store, bus, lanes, telemetry, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
