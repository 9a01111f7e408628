// The gateway process after the early all-off (main.ts): check the configuration and
// everything it names (the same check as `config check`), start every part, report
// "ready" (log line and systemd READY=1 with watchdog pings), and shut down cleanly on
// SIGINT/SIGTERM.
//
// Exit codes: 78 (EX_CONFIG) for a problem in the configuration or a file it names, with
// the same list `config check` prints; 1 for anything else that stops the start (the HTTP
// port in use, a broker that cannot be started).
import { performance } from 'node:perf_hooks';
import { loadCheckedConfig } from './config/check.js';
import { ConfigError, configPathFromEnv, type LoadedConfig } from './config/load.js';
import { CredentialError } from './credentials/errors.js';
import { logFormat } from './boot/log-format.js';
import { createGatewayLogger } from './boot/logger.js';
import { reportClockSync } from './boot/clock.js';
import { notifySystemd, type SystemdNotifier } from './boot/systemd.js';
import { IDLE_LANE_STATES, lanesQuietFor, settleMemoryAfterTraffic, settleMemoryWhenIdle, type SettleReport } from './boot/settle-memory.js';
import { GatewayStartError, startGateway } from './gateway.js';
import { HttpStartError } from './http/access.js';
import { VERSION } from './version.js';

const EX_CONFIG = 78;

function refuse(message: string, code: number): never {
  process.stderr.write(`${message}\nThe gateway did not start.\n`);
  process.exit(code);
}

/** A file the configuration names went bad between the check and its use: still configuration. */
function isConfigFileError(err: unknown): boolean {
  if (err instanceof CredentialError) return err.code.startsWith('TRUST_');
  if (err instanceof GatewayStartError) return /^(SECRET_|MQTT_FILE_)/.test(err.code);
  return err instanceof HttpStartError && err.code.startsWith('HTTP_METRICS_TOKEN');
}

/** What to do about a port that is taken, naming the setting that chose it. */
function portInUseMessage(loaded: LoadedConfig, env: NodeJS.ProcessEnv): string {
  const { host, port } = loaded.config.http;
  const from = env['HTTP_PORT'] !== undefined ? `HTTP_PORT=${env['HTTP_PORT']} from the environment` : `http.port in ${loaded.file}`;
  return (
    `HTTP port ${port} on ${host} (${from}) is already in use (EADDRINUSE): another program or another gateway listens there. ` +
    `Stop it, or start this gateway on a free port: HTTP_PORT=<port>, or http.port in ${loaded.file}.`
  );
}

/** Hooks into the start, for the build (scripts/bundle-cache-start.mjs). */
export interface RunHooks {
  /** Called right after the ready line, before the link and the HTTP app are started. */
  onReady?: () => void;
}

async function main(hooks: RunHooks): Promise<void> {
  const env = process.env;
  const format = logFormat(env);
  if (typeof format !== 'string') refuse(format.error, EX_CONFIG);
  let loaded: LoadedConfig;
  let notes: string[];
  try {
    ({ loaded, notes } = await loadCheckedConfig(configPathFromEnv(env), env));
  } catch (err) {
    if (err instanceof ConfigError) refuse(err.message, EX_CONFIG);
    throw err;
  }
  const logger = await createGatewayLogger({ level: loaded.config.logLevel, base: { site: loaded.config.site, checkpoint: loaded.config.checkpoint }, format });
  for (const note of notes) logger.warn({ config: loaded.file }, note);
  let gateway;
  try {
    gateway = await startGateway(loaded, { logger, deferUntilReady: true });
  } catch (err) {
    if (err instanceof ConfigError || isConfigFileError(err)) refuse((err as Error).message, EX_CONFIG);
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code === 'EADDRINUSE' && e.syscall === 'listen' && e.port === loaded.config.http.port) refuse(portInUseMessage(loaded, env), 1);
    throw err;
  }
  // Signals are handled from here on: a stop that comes while the link and the HTTP app
  // are still being started (below) is a clean stop too.
  let stopping = false;
  let systemd: SystemdNotifier | null = null;
  let cancelSettle = (): void => undefined;
  let stopAfterTraffic = (): void => undefined;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    systemd?.stop();
    cancelSettle();
    stopAfterTraffic();
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const readyMs = Math.round(performance.now());
  logger.info(
    { ready: true, version: VERSION, config: loaded.file, dataDir: loaded.paths.dataDir, readyMs, url: gateway.url },
    `ready: kiosk at ${gateway.url}/ (started in ${readyMs} ms)`,
  );
  hooks.onReady?.();
  // pino writes asynchronously: each write is issued from the event loop once the one
  // before it has completed, which the loop sees in its poll phase. Two turns (a poll phase
  // between them) issue the line's write before the link and the HTTP app hold the loop.
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  // What the first decision does not need comes after the line: the MQTT link's connection
  // and the HTTP app (the server listens already; a request before the app waits for it).
  try {
    await gateway.ready();
  } catch (err) {
    // A stop already under way ends the process itself.
    if (stopping) return;
    // As a failed start (the app or the link could not start): stopped in order, then exit 1.
    stopping = true;
    await gateway.stop();
    throw err;
  }
  if (stopping) return;
  // READY=1 once the app serves.
  systemd = await notifySystemd(logger);
  if (stopping) {
    systemd.stop();
    return;
  }
  // After "ready": the check runs a program, and the gate decides meanwhile.
  void reportClockSync(logger, (alert) => gateway.alerts.raise(alert)).catch((err: unknown) => logger.error({ err }, 'clock check failed'));
  // Full GCs while the lanes are idle, so the heap settles low (boot/settle-memory.ts): one
  // once ready, then one after traffic when V8 kept the pages it grew into.
  // GATEWAY_SETTLE_MEMORY=ready: only the first; off: neither (for comparing, bench/footprint.ts).
  const settle = env['GATEWAY_SETTLE_MEMORY'];
  const logSettle =
    (when: 'ready' | 'after traffic') =>
    (r: SettleReport): void =>
      logger.info(
        { settleMemory: { when, gcMs: Math.round(r.gcMs * 10) / 10, heapUsedMB: [r.heapUsedBefore, r.heapUsedAfter].map((b) => Math.round(b / 1e5) / 10), heapTotalMB: Math.round(r.heapTotalBefore / 1e5) / 10, waits: r.waits } },
        `full GC ${when}`,
      );
  if (settle !== 'off') {
    cancelSettle = settleMemoryWhenIdle({
      // Out of service counts as idle: a lane whose device is down at start would otherwise hold it off for good.
      lanesIdle: () => gateway.lanes.every((l) => IDLE_LANE_STATES.has(l.snapshot().state)),
      onDone: logSettle('ready'),
    });
  }
  if (settle !== 'off' && settle !== 'ready') {
    stopAfterTraffic = settleMemoryAfterTraffic({ quietForMs: () => lanesQuietFor(gateway.lanes, Date.now()), onDone: logSettle('after traffic') });
  }
}

/** Start the gateway process (main.ts calls it after the early all-off); exits the process on a failed start. */
export function runGateway(hooks: RunHooks = {}): Promise<void> {
  return main(hooks).catch((err: unknown) => {
    const e = err as { code?: string; message?: string };
    refuse(`checkpoint gateway failed to start: ${e.message ?? String(err)}`, 1);
  });
}
