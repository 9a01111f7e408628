// The gateway process after the early all-off (main.ts): load and check the configuration,
// start every part, report "ready" (log line and systemd READY=1 with watchdog pings), and
// shut down cleanly on SIGINT/SIGTERM.
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { ConfigError, configPathFromEnv, loadConfig } from './config/load.js';
import { notifySystemd } from './boot/systemd.js';
import { startGateway } from './gateway.js';
import { VERSION } from './version.js';

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = loadConfig(configPathFromEnv());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nThe gateway did not start.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = pino({
    level: loaded.config.logLevel,
    base: { site: loaded.config.site, checkpoint: loaded.config.checkpoint },
    // QR payloads and names never reach the log, whatever a caller passes by mistake.
    redact: { paths: ['payload', '*.payload', 'subjectName', '*.subjectName'], censor: '[redacted]' },
  });
  let gateway;
  try {
    gateway = await startGateway(loaded, { logger });
  } catch (err) {
    // Profiles and zones are checked while starting; they are configuration too.
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nThe gateway did not start.\n`);
      process.exit(78);
    }
    throw err;
  }
  const readyMs = Math.round(performance.now());
  logger.info(
    { version: VERSION, config: loaded.file, dataDir: loaded.paths.dataDir, readyMs, url: gateway.url },
    `ready: kiosk at ${gateway.url}/ (started in ${readyMs} ms)`,
  );
  const systemd = await notifySystemd(logger);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    systemd.stop();
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
}

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  process.stderr.write(`checkpoint gateway failed to start: ${e.message ?? String(err)}\n`);
  process.exit(1);
});
