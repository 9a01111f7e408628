// Wires the parts of one checkpoint gateway together. Constructors only store their
// collaborators; start() brings the parts up in order and stop() takes them down in
// reverse, so a test can run a whole gateway in-process.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { SimRelay } from '../drivers/relay/sim-relay.js';
import { SimScanner } from '../drivers/scanner/sim-scanner.js';
import { SimPassageSensor } from '../drivers/sensor/sim-sensor.js';
import { SimThermometer } from '../drivers/thermometer/sim-thermometer.js';
import { GatewayBus } from './bus.js';
import type { LoadedConfig } from './config/load.js';
import type { LaneConfig } from './config/schema.js';
import { loadTrustDir } from './config/trust.js';
import { loadDccTrustDir } from './config/dcc-trust.js';
import { buildDccTrust, verifyDcc, type DccResult } from './credentials/dcc/index.js';
import { cachedProfileHash, resolveLaneProfiles } from './config/profiles.js';
import { laneZones } from './lane/zone-gate.js';
import type { LaneZone } from './lane/zone-gate.js';
import { ZoneResetSchedule } from './lane/zone-reset.js';
import { decodeCredential, type PassRules, type TrustList } from './credentials/index.js';
import { buildHealthReport } from './http/health.js';
import { GuardAccounts } from './guards/accounts.js';
import { SessionManager } from './guards/sessions.js';
import { startHttpServer } from './http/server.js';
import { buildLaneDevices, buildPassageSensor, SharedModbusPorts } from './devices.js';
import { CodedError } from './errors.js';
import { withoutHealth } from './lane/health-strip.js';
import { Lane, type LaneDevices } from './lane/lane.js';
import type { LaneSimControls, LaneSnapshot } from './lane/types.js';
import { UPDATE_KINDS } from './updates/envelope.js';
import { healthChecksOf } from './policy/profiles.js';
import type { PolicyProfile } from './policy/types.js';
import { loadOrCreateGatewayKey, openStore } from './store/index.js';
import { RetentionJob } from './retention.js';
import { ChainStatusSource } from './telemetry/chain-status.js';
import type { AlertRecord, LedgerEntry, Store } from './store/types.js';
import { AlertRaiser, DeviceAlerts, decisionOutbox, zoneCorrectedAlert } from './telemetry/alerts.js';
import { connectTelemetry, type Telemetry } from './telemetry/connect.js';
import type { MqttCredentials } from './telemetry/link.js';
import { StatsReporter } from './telemetry/stats.js';
import { DailyScreeningSummary } from './screening/daily-summary.js';
import { LiveDccTrust, LiveHealthChecks, LivePolicy, LiveTrust } from './updates/live.js';
import { UpdateService, restoreUpdates } from './updates/service.js';
import { eventMessage, type EventMessageContext } from './telemetry/event-message.js';
import { pseudonymizer, secretFromHex } from './telemetry/pseudonym.js';
import { topicsFor } from './telemetry/topics.js';
import { VERSION } from './version.js';

export interface GatewayOptions {
  logger: Logger;
  now?: () => number;
  /**
   * Leave for `ready()` what the first decision does not need (the process's "ready" line
   * comes first, run.ts): the MQTT link's first connection (its session counter commit, the
   * client) and the HTTP app (express, metrics; the server listens before either way).
   * Default false: everything before startGateway resolves.
   */
  deferUntilReady?: boolean;
}

export interface RunningGateway {
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:8080 */
  url: string;
  store: Store;
  bus: GatewayBus;
  lanes: Lane[];
  telemetry: Telemetry;
  /** Raise alerts that belong to no decision (guard override, gate held, ...). */
  alerts: AlertRaiser;
  /** Inbound signed updates (also fed by the MQTT link). */
  updates: UpdateService;
  /** Starts what `deferUntilReady` left (the link, the HTTP app); resolves once done. Idempotent. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export class GatewayStartError extends CodedError<string> {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
  }
}

/** The per-site pseudonym secret (hex); also read by the CLI's screening report. */
export function readSecret(file: string): Buffer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GatewayStartError('SECRET_UNREADABLE', `cannot read the pseudonym secret ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const secret = secretFromHex(text);
  if (secret === null) throw new GatewayStartError('SECRET_INVALID', `${file}: expected at least 32 bytes as hex (64+ hex digits)`);
  return secret;
}

export interface LaneParts {
  laneConfig: LaneConfig;
  /** The profile in force (a live view: it may change under the lane). With health checks off, nothing health-related is stored. */
  profile: PolicyProfile;
  store: Store;
  trust: TrustList;
  /** Pass verification rules (credentials.maxPassLifetimeHours); default the credentials module's. */
  passRules?: PassRules;
  /** The EU DCC verifier bound to the DCC trust in force; absent = every HC1: code is DCC_UNKNOWN_SIGNER. */
  dcc?: (qr: string, now: number) => DccResult;
  /** Per-site pseudonym secret. */
  secret: Buffer;
  /** Name and content hash of the profile in force, recorded with each decision. */
  policyId?: () => { name: string; hash: string };
  /** The zone this lane counts into or out of (policy.zones). */
  zone?: LaneZone;
  /** Serial ports the Modbus devices of several lanes share (one link, one bus per port). */
  sharedPorts?: SharedModbusPorts;
  /** Topic of the events the outbox publishes. */
  eventsTopic: string;
  /** Topic of the alerts; default: eventsTopic with `alerts` for its last level. */
  alertsTopic?: string;
  ctx: EventMessageContext;
  showMs: number;
  now: () => number;
  logger: Logger;
  /** Called after each committed ledger row (wake the outbox drain, tell the UI). */
  afterRecord: (row: LedgerEntry) => void;
  onSnapshot: (snapshot: LaneSnapshot) => void;
  /** Stores and publishes an alert of no decision (a guard override). */
  recordAlert?: (alert: AlertRecord) => void;
}

/** One lane with simulated devices, wired to the store; used by the gateway, tests and benches. */
export function buildSimLane(parts: LaneParts): { lane: Lane; scanner: SimScanner; thermometer: SimThermometer; relay: SimRelay; sensor?: SimPassageSensor } {
  const { now } = parts;
  const scanner = new SimScanner(now);
  const thermometer = new SimThermometer(now);
  const relay = new SimRelay(now);
  const sensor = parts.laneConfig.passageSensor?.type === 'sim' ? new SimPassageSensor(now) : undefined;
  // A real beam on an otherwise simulated lane (a bench set-up) is the real driver.
  const realSensor = parts.laneConfig.passageSensor && !sensor ? buildPassageSensor(parts.laneConfig.passageSensor, { logger: parts.logger, now, ...(parts.sharedPorts ? { sharedPorts: parts.sharedPorts } : {}) }) : undefined;
  const sim: LaneSimControls = {
    scan: (payload) => void scanner.scan(payload),
    temperature: (celsius) => void thermometer.reading(celsius),
    relayPulses: () => [...relay.pulses],
    ...(sensor ? { passage: () => void sensor.pass() } : {}),
    setDeviceState: (device, state) => ({ scanner, thermometer, relay, sensor })[device]?.setState(state, state === 'connected' ? undefined : 'sim knob'),
  };
  const lane = buildLane(parts, { scanner, thermometer, relay, ...((sensor ?? realSensor) ? { sensor: sensor ?? realSensor } : {}) }, sim);
  return { lane, scanner, thermometer, relay, ...(sensor ? { sensor } : {}) };
}

/** A lane with the devices its configuration names: real drivers, or sims with sim controls. */
export function buildConfiguredLane(parts: LaneParts): { lane: Lane } {
  const devices = buildLaneDevices(parts.laneConfig, { logger: parts.logger, now: parts.now, ...(parts.sharedPorts ? { sharedPorts: parts.sharedPorts } : {}) });
  return devices === null ? buildSimLane(parts) : { lane: buildLane(parts, devices, null) };
}

/** One lane wired to the store, on the given devices. */
export function buildLane(parts: LaneParts, devices: LaneDevices, sim: LaneSimControls | null): Lane {
  const { laneConfig, store, now } = parts;
  const topics = { events: parts.eventsTopic, alerts: parts.alertsTopic ?? parts.eventsTopic.replace(/[^/]*$/, 'alerts') };
  // Built once per lane, not per decision: the topics and context never change under it.
  const toOutbox = decisionOutbox(store, topics, parts.ctx);
  return new Lane({
    config: laneConfig,
    devices,
    sim,
    profile: parts.profile,
    ...(parts.policyId ? { policyId: parts.policyId } : {}),
    ...(parts.zone ? { zone: parts.zone } : {}),
    showMs: parts.showMs,
    decode: (payload, at) => decodeCredential(payload, parts.trust, at, parts.dcc ? { ...parts.passRules, dcc: parts.dcc } : parts.passRules),
    roster: (staffId) => store.rosterGet(staffId),
    facts: (subjectId) => ({
      watchlist: store.watchlistFor(subjectId),
      approvals: store.approvalsFor(subjectId),
      riskAreas: store.riskAreas(),
      checkpoint: parts.ctx.checkpoint,
      leave: store.leaveFor(subjectId),
      crews: store.crewsFor(subjectId),
    }),
    vehicleGoods: (plate, from, to) => store.vehicleGoods(plate, from, to),
    pseudonym: pseudonymizer(parts.secret),
    record: (entry) => {
      // The guard for health checks off: whatever the lane hands over, nothing health-related is stored (nor published: the events and alerts are built from the stored row).
      const stored = healthChecksOf(parts.profile) === 'off' ? withoutHealth(entry) : entry;
      const row = store.appendDecision(stored, toOutbox);
      parts.afterRecord(row);
      return row;
    },
    onSnapshot: parts.onSnapshot,
    ...(parts.recordAlert === undefined ? {} : { recordAlert: parts.recordAlert }),
    now,
    logger: parts.logger,
  });
}

/** Login and TLS material for the broker, read from the files the config names. */
function mqttCredentials(mqtt: LoadedConfig['config']['mqtt'], dir: string): MqttCredentials {
  const read = (file: string, what: string): string => {
    const abs = path.resolve(dir, file);
    try {
      return readFileSync(abs, 'utf8');
    } catch (err) {
      throw new GatewayStartError('MQTT_FILE_UNREADABLE', `cannot read the MQTT ${what} ${abs}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  const c: MqttCredentials = {};
  if (mqtt.username !== undefined) c.username = mqtt.username;
  if (mqtt.passwordFile !== undefined) c.password = read(mqtt.passwordFile, 'password file').split(/\r?\n/)[0] ?? '';
  if (mqtt.tls?.ca !== undefined) c.ca = read(mqtt.tls.ca, 'CA file');
  if (mqtt.tls?.cert !== undefined) c.cert = read(mqtt.tls.cert, 'client certificate');
  if (mqtt.tls?.key !== undefined) c.key = read(mqtt.tls.key, 'client key');
  return c;
}

export async function startGateway(loaded: LoadedConfig, options: GatewayOptions): Promise<RunningGateway> {
  const { config, paths } = loaded;
  const { logger } = options;
  const now = options.now ?? Date.now;
  const started = now();

  const secret = readSecret(paths.pseudonymSecretFile);
  const trust = await loadTrustDir(paths.passIssuersDir);
  const dccSigners = paths.dccSignersDir === undefined ? [] : await loadDccTrustDir(paths.dccSignersDir);
  // Each lane's checkpoint profile (config/profiles/*.yaml); ConfigError lists every problem.
  const profiles = resolveLaneProfiles(loaded);
  const profile = profiles.defaultProfile.profile;
  const topics = topicsFor({ prefix: config.mqtt.topicPrefix, site: config.site, checkpoint: config.checkpoint });
  // Checkpoints in a worker thread: none lands inside a decision's commit (docs/store.md "Checkpoints").
  const store = openStore(paths.dataDir, { checkpointWorker: { onLost: (why) => logger.warn(why) } });
  const stoppers: (() => Promise<void> | void)[] = [() => store.close()];
  let stopped = false;
  // Signs the retention checkpoints; made on first start beside the ledger (docs/store.md "Retention").
  const gatewayKey = loadOrCreateGatewayKey(paths.dataDir);
  const stopAll = async (): Promise<void> => {
    stopped = true;
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
    // The last applied central-office policy and trust list (SQLite) win over the files.
    const restored = await restoreUpdates(store, { profile, trust, healthChecks: config.policy.healthChecks, dccTrust: dccSigners });
    if (restored.restored.length > 0) logger.info({ kinds: restored.restored }, 'using the last applied central-office updates');
    const healthChecks = new LiveHealthChecks(restored.healthChecks);
    if (healthChecks.current === 'off') logger.info('health checks off: every lane is access control only');
    const ctx = { site: config.site, checkpoint: config.checkpoint, healthChecks: () => healthChecks.current };
    const livePolicy = new LivePolicy(restored.profile, healthChecks);
    const liveTrust = new LiveTrust(restored.trust);
    // Throws (a start-up error naming the entry) for a certificate the verifier refuses.
    const liveDcc = new LiveDccTrust(restored.dccTrust, buildDccTrust);
    if (liveDcc.entries.length > 0) logger.info({ signers: liveDcc.entries.length }, 'EU DCC document signers trusted');
    const centralDir = config.central.updateKeysDir ? path.resolve(path.dirname(loaded.file), config.central.updateKeysDir) : null;
    const centralKeys = centralDir ? await loadTrustDir(centralDir) : new Map();
    if (centralKeys.size === 0) logger.warn('no central-office update keys configured: every inbound update will be refused');
    let notifyLink = (): void => undefined;
    const alerts = new AlertRaiser({ store, topics, ctx, now, logger: logger.child({ part: 'alerts' }), onAlert: () => notifyLink() });
    const updates = new UpdateService({
      store,
      topics,
      ...ctx,
      centralKeys,
      policy: livePolicy,
      policyBase: profile,
      healthChecks: { live: healthChecks, configured: config.policy.healthChecks },
      trust: liveTrust,
      dccTrust: liveDcc,
      now,
      logger: logger.child({ part: 'updates' }),
      afterCommit: () => notifyLink(),
    });
    let laneSnapshots: () => LaneSnapshot[] = () => [];
    const configHash = `sha256:${createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 32)}`;
    const telemetry = await connectTelemetry({
      url: config.mqtt.url,
      clientId: config.mqtt.clientId ?? `gw-${config.site}-${config.checkpoint}`,
      embeddedFallback: config.mqtt.embeddedFallback,
      protocolVersion: config.mqtt.protocolVersion,
      keepaliveS: config.mqtt.keepaliveS,
      credentials: mqttCredentials(config.mqtt, path.dirname(loaded.file)),
      topics,
      outbox: store,
      logger: logger.child({ part: 'mqtt' }),
      now,
      onStatus: (s) => bus.emit('link', s),
      statusSource: {
        // Kept in SQLite so it rises across restarts too.
        nextSession: () => {
          const n = Number(store.getMeta('mqtt.session') ?? 0) + 1;
          store.setMeta('mqtt.session', String(n));
          return n;
        },
        birth: () => ({
          site: config.site,
          checkpoint: config.checkpoint,
          version: VERSION,
          configHash,
          healthChecks: healthChecks.current,
          lanes: laneSnapshots().map((l) => ({
            id: l.lane,
            state: l.state,
            devices: Object.fromEntries(Object.entries(l.devices).map(([k, d]) => [k, { type: d.type, state: d.state }])),
            // A lane on an access-only profile checks no health even with the gateway's setting on.
            ...(l.healthChecks === 'off' ? { healthChecks: 'off' as const } : {}),
          })),
          updates: Object.fromEntries(UPDATE_KINDS.map((k) => [k, updates.appliedVersion(k)])),
        }),
      },
      // Returned, not voided: the link acknowledges the command once it is stored or rejected.
      onCommand: (cmd) => updates.handle(cmd),
      // Deferred: the outbox keeps every event until the link drains it.
      startLink: options.deferUntilReady !== true,
    });
    notifyLink = () => telemetry.link.notify();
    stoppers.push(() => telemetry.stop());
    // Stopped before the link (stoppers run last first): pending rejection counts are queued.
    stoppers.push(() => updates.stop());

    // A zone's count moves at any of its lanes (or by a correction): its entry kiosks show it.
    let zoneChanged = (_zone: string): void => undefined;
    const zones = laneZones(loaded, store, (zone) => zoneChanged(zone));
    const zoneResets = new ZoneResetSchedule({
      store,
      zones: config.policy.zones,
      now,
      logger: logger.child({ part: 'zones' }),
      checkEveryMs: 15_000,
      onReset: (c) => {
        alerts.raise(zoneCorrectedAlert(c, true));
        zoneChanged(c.zone);
      },
    });
    zoneResets.start();
    stoppers.push(() => zoneResets.stop());
    const sharedPorts = new SharedModbusPorts(config.lanes);
    const lanes = config.lanes.map(
      (laneConfig) =>
        buildConfiguredLane({
          laneConfig,
          sharedPorts,
          ...(zones.has(laneConfig.id) ? { zone: zones.get(laneConfig.id) as LaneZone } : {}),
          // Lanes on the default profile follow the central office's policy updates;
          // a lane naming another profile keeps that file's rules. Every lane follows the
          // health checks setting.
          ...(() => {
            const live =
              (laneConfig.profile ?? config.policy.profile) === config.policy.profile
                ? livePolicy
                : new LivePolicy((profiles.lanes.get(laneConfig.id) ?? profiles.defaultProfile).profile, healthChecks);
            return { profile: live.view, policyId: () => ({ name: live.current.name, hash: cachedProfileHash(live.current) }) };
          })(),
          store,
          trust: liveTrust.view,
          passRules: { maxLifetimeHours: config.credentials.maxPassLifetimeHours },
          dcc: (qr: string, at: number) => verifyDcc(qr, liveDcc.current, at),
          secret,
          eventsTopic: topics.events,
          ctx,
          showMs: config.http.kioskResetMs,
          now,
          logger: logger.child({ part: 'lane', lane: laneConfig.id }),
          afterRecord: (row) => {
            telemetry.link.notify();
            bus.emit('ledger', row);
          },
          onSnapshot: (snapshot) => bus.emit('lane', snapshot),
          recordAlert: (a) => void alerts.raise(a),
        }).lane,
    );
    laneSnapshots = () => lanes.map((l) => l.snapshot());
    // Health checks switched (a signed policy update): every lane at once, then the office.
    healthChecks.onChange(() => {
      logger.info({ healthChecks: healthChecks.current }, healthChecks.current === 'off' ? 'health checks off: every lane is access control only' : 'health checks on');
      for (const lane of lanes) lane.policyChanged();
      telemetry.link.republishStatus();
    });
    zoneChanged = (zone) => {
      for (const lane of lanes) if (zones.get(lane.id)?.zone === zone && zones.get(lane.id)?.direction === 'in') lane.republish();
    };
    const chainStatus = new ChainStatusSource(store, gatewayKey);
    if (store.retention !== null) {
      const retention = new RetentionJob({
        room: store.retention,
        personalDataDays: config.privacy.personalDataDays,
        ledgerDays: config.privacy.ledgerDays,
        everyMs: config.privacy.retentionCheckMs,
        now,
        logger: logger.child({ part: 'retention' }),
        key: gatewayKey,
        walCaughtUp: (maxMs) => store.walCaughtUp(maxMs),
        readAhead: (kind, rows, maxMs) => store.readAhead(kind, rows, maxMs),
      });
      retention.start();
      // Stopped before the store closes (stoppers run last first): a run ends at its next step.
      stoppers.push(() => retention.stop());
    }
    const stats = new StatsReporter({
      ...ctx,
      topic: topics.stats,
      intervalMs: config.mqtt.statsIntervalMs,
      now,
      logger: logger.child({ part: 'stats' }),
      publish: (topic, payload) => telemetry.link.publishNow(topic, payload, { qos: 0 }),
      outboxDepth: () => store.outboxDepth(),
      unackedAlerts: () => store.unackedAlertCount(),
      lastSeq: () => store.lastSeq(),
      chainHead: () => chainStatus.next(),
      lanes: lanes.map((l) => l.id),
      ...(config.policy.zones.length > 0
        ? { zones: () => Object.fromEntries(config.policy.zones.map((z) => [z.id, { count: store.zoneFacts(z.id, null).count, limit: z.limit ?? null }])) }
        : {}),
    });
    bus.on('ledger', (row) => stats.record(row));
    stats.start();
    stoppers.push(() => stats.stop());
    const screeningSummary = new DailyScreeningSummary({
      store,
      topic: topics.screening,
      ...ctx,
      pseudonym: pseudonymizer(secret),
      now,
      logger: logger.child({ part: 'screening' }),
      checkEveryMs: 60_000,
      afterQueue: () => telemetry.link.notify(),
    });
    screeningSummary.start();
    stoppers.push(() => screeningSummary.stop());
    const deviceAlerts = new DeviceAlerts((a) => {
      alerts.raise(a);
      telemetry.link.republishStatus(); // the retained birth shows devices as they are now
    });
    bus.on('lane', (snapshot) => deviceAlerts.observe(snapshot));
    for (const lane of lanes) {
      await lane.start();
      stoppers.push(() => lane.stop());
    }
    // The birth may have gone out before the lanes existed: say it again with them.
    telemetry.link.republishStatus();

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
        counters: new Map(lanes.map((l) => [l.id, l.deviceCounters()])),
      });
    const guardAccounts = new GuardAccounts(store.path, { maxFailures: config.guard.lockoutFailures, lockoutMs: config.guard.lockoutMs }, now);
    stoppers.push(() => guardAccounts.close());
    const http = await startHttpServer(
      {
        lanes,
        bus,
        store,
        health,
        logger: logger.child({ part: 'http' }),
        retention: { personalDataDays: config.privacy.personalDataDays, ledgerDays: config.privacy.ledgerDays },
        simEnabled: config.lanes.every((l) => l.scanner.type === 'sim' && l.thermometer.type === 'sim' && l.relay.type === 'sim'),
        kioskResetMs: config.http.kioskResetMs,
        guard: {
          accounts: guardAccounts,
          sessions: new SessionManager({ ttlMs: config.guard.sessionTtlMs, idleMs: config.guard.sessionIdleMs }, now),
          store,
          override: (laneId, guardId, why, note) => {
            const lane = lanes.find((l) => l.id === laneId);
            if (lane === undefined) throw new GatewayStartError('LANE_UNKNOWN', `no lane ${laneId}`);
            return lane.override(guardId, why, note);
          },
          pseudonym: pseudonymizer(secret),
          now,
          sessionTtlMs: config.guard.sessionTtlMs,
          loginPerMinute: config.guard.loginPerMinute,
          onZoneCorrected: (c) => {
            alerts.raise(zoneCorrectedAlert(c, false));
            zoneChanged(c.zone);
          },
          zones: config.policy.zones.map((zn) => ({
            id: zn.id,
            name: zn.name ?? zn.id,
            limit: zn.limit ?? null,
            antiPassback: zn.antiPassback,
            entryLanes: zn.entryLanes,
            exitLanes: zn.exitLanes,
            resetAt: zn.resetAt,
          })),
        },
      },
      {
        host: config.http.host,
        port: config.http.port,
        allowedHosts: config.http.allowedHosts,
        ...(config.http.metricsTokenFile === undefined ? {} : { metricsTokenFile: path.resolve(path.dirname(loaded.file), config.http.metricsTokenFile) }),
        deferApp: options.deferUntilReady === true,
      },
    );
    stoppers.push(() => http.close());
    const ready = async (): Promise<void> => {
      if (stopped) return;
      telemetry.link.start();
      await http.app();
    };
    if (options.deferUntilReady !== true) await ready();

    return { url: http.url, store, bus, lanes, telemetry, alerts, updates, ready, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
