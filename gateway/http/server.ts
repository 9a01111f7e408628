// The HTTP edge (the app itself: app.ts). It listens before the app is built, and with
// `deferApp` builds it only when `app()` is called (after the gateway's "ready" line,
// run.ts) or a request comes first, which then waits for it: express, its mime table,
// prom-client and the API schemas are loaded then (docs/footprint.md "How the gateway starts").
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayBus } from '../bus.js';
import type { LaneHandle } from '../lane/types.js';
import type { Store } from '../store/types.js';
import type { HealthReport } from './health.js';
import type { GuardApiDeps } from './guard-api.js';
import type { RetentionDays } from './guard-page.js';
import { readMetricsToken } from './access.js';
import { allowedHostSet } from './hosts.js';

export interface HttpDeps {
  lanes: LaneHandle[];
  bus: GatewayBus;
  store: Pick<Store, 'queryEvents' | 'outboxDepth'>;
  health: () => HealthReport;
  logger: Logger;
  /** Mount /api/sim/... (only when every device of the gateway is simulated). */
  simEnabled: boolean;
  /** How long the kiosk shows a decision before it returns to the waiting screen. */
  kioskResetMs: number;
  /** What the ledger keeps how long (privacy.*), said on the guard console; default the config's defaults. */
  retention?: RetentionDays;
  /** The guard console (/guard and /api/guard/...); absent = not mounted. */
  guard?: Omit<GuardApiDeps, 'lanes' | 'bus' | 'logger' | 'health'>;
  /** The clock the open lane views are cut to (default Date.now). */
  now?: () => number;
}

/** Who the server answers and how /metrics may be read without a session. */
export interface HttpAccess {
  /** Normalized host names (no port) the server answers for; see hosts.ts. */
  allowedHosts: ReadonlySet<string>;
  /** The bearer token that reads /metrics; null = a guard session only. */
  metricsToken: string | null;
}

export interface HttpListenOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** http.allowedHosts: names answered besides the loopback names and `host`. */
  allowedHosts?: readonly string[];
  /** http.metricsTokenFile, resolved: its first line is the /metrics bearer token. */
  metricsTokenFile?: string;
  /**
   * Build the app only when `app()` is called or the first request comes (the gateway's
   * start, after its "ready" line); default: before startHttpServer resolves.
   */
  deferApp?: boolean;
}

export interface RunningHttpServer {
  url: string;
  /**
   * Build the app now, unless a request already did (the server listens before the app is
   * built; a request that comes first waits for it). Rejects when it cannot be built.
   */
  app(): Promise<void>;
  close(): Promise<void>;
}

export async function startHttpServer(deps: HttpDeps, opts: HttpListenOptions): Promise<RunningHttpServer> {
  // Before listening: an unreadable token file stops the start (a configuration error).
  const access: HttpAccess = {
    allowedHosts: allowedHostSet(opts.host, opts.allowedHosts),
    metricsToken: opts.metricsTokenFile === undefined ? null : readMetricsToken(opts.metricsTokenFile),
  };
  let handler: RequestListener | null = null;
  let stopMetrics: (() => void) | null = null;
  let closed = false;
  let building: Promise<RequestListener> | null = null;
  const build = (): Promise<RequestListener> =>
    (building ??= import('./app.js').then(({ createHttpApp }) => {
      const app = createHttpApp(deps, access);
      stopMetrics = app.locals.stopMetrics as () => void;
      // Built while the server closed: nothing will stop its metrics later.
      if (closed) stopMetrics();
      handler = app;
      return app;
    }));
  const waitForApp = (req: IncomingMessage, res: ServerResponse): void => {
    build().then(
      (app) => app(req, res),
      (err: unknown) => {
        // The path only, as the app logs it: a query may hold what a guard searched for.
        deps.logger.error({ err, method: req.method, path: (req.url ?? '').split('?')[0] }, 'http app could not be built');
        res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error; see the gateway log' } }));
      },
    );
  };
  const server = createServer((req, res) => (handler === null ? waitForApp(req, res) : handler(req, res)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => deps.logger.error({ err }, 'http server error'));
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  deps.logger.info({ url }, 'http listening');
  if (opts.deferApp !== true) await build();
  return {
    url,
    app: () => build().then(() => undefined),
    close: () =>
      new Promise<void>((resolve, reject) => {
        closed = true;
        stopMetrics?.();
        server.close((err) => (err ? reject(err) : resolve()));
        // Open event streams and keep-alive sockets would otherwise hold close() forever.
        server.closeAllConnections();
      }),
  };
}
