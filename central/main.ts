// Entry point of the central office service (`npm run central`, `central serve`): load
// and check config/central.yaml (CENTRAL_CONFIG overrides the path), start, and stop
// cleanly on SIGINT/SIGTERM. Exit 78 on a bad configuration, like the gateway.
import { realpathSync } from 'node:fs';
import { pino } from 'pino';
import { ConfigError, centralConfigPath, loadCentralConfig } from './config.js';
import { CentralService } from './service.js';

export async function serve(configFile: string = centralConfigPath()): Promise<void> {
  let loaded;
  try {
    loaded = loadCentralConfig(configFile);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nThe central office service did not start.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = pino({ level: loaded.config.logLevel, base: { service: 'central', instance: loaded.config.mqtt.clientId } });
  const service = new CentralService(loaded, { logger });
  try {
    await service.start();
  } catch (err) {
    logger.error({ err }, 'failed to start');
    await service.stop().catch(() => undefined);
    throw err;
  }
  logger.info(
    { config: loaded.file, database: service.db.engine, http: service.url, mqtt: service.link.state.url },
    `ready: central office service (${service.db.engine}), health at ${service.url ?? '(no http)'}/healthz`,
  );
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    service.stop().then(
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

// Run when started as a program (not when imported by `central serve`).
if (process.argv[1] !== undefined && import.meta.filename === realpathSync(process.argv[1])) {
  serve().catch((err: unknown) => {
    process.stderr.write(`central office service failed to start: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  });
}
