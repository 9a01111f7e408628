// The service's HTTP side: /healthz (503 when the database or the broker is down, open),
// /metrics (Prometheus text) and /api/events, both behind the office console's session
// (central/web/app.ts) or a bearer token.
import type { Server } from 'node:http';
import express from 'express';
import type { Queryable } from './db/adapter.js';
import type { LinkState } from './link.js';
import type { CentralMetrics } from './metrics.js';
import { newestEvents, type EventsQuery } from './query.js';
import { mountConsole, requireRole, type ConsoleDeps } from './web/app.js';
import type { ChangeFeed } from './web/changes.js';
import type { ConsoleContext } from './web/context.js';
import { mountPages } from './web/pages.js';
import { mountCharts } from './web/routes-charts.js';
import { mountTracing } from './web/routes-tracing.js';
import { mountVisitors } from './web/routes-visitors.js';
import { mountScreening } from './web/routes-screening.js';
import type { UpdatePusher } from './push.js';
import type { SiteKeys } from './sites.js';

export interface CentralHealth {
  status: 'ok' | 'down';
  version: string;
  uptimeS: number;
  instance: string;
  database: { engine: 'postgres' | 'pglite'; ok: boolean; detail?: string };
  broker: LinkState;
  /** Messages received and not yet committed (hence not yet acknowledged). */
  backlog: number;
  /** ms since the last commit, null before the first one. */
  lastCommitAgoMs: number | null;
}

export function createHttpApp(
  deps: {
    health: () => Promise<CentralHealth>;
    metrics: CentralMetrics;
    db: () => Queryable;
    changes?: ChangeFeed;
    escalateAfterMs?: number;
    /** Signs and publishes the console's pushes; absent in tests of the read side. */
    pusher?: UpdatePusher;
    sites?: SiteKeys;
  },
  console: ConsoleDeps,
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  mountConsole(app, console, {
    // Open (after the Host check, which lets monitoring probes use an IP address).
    open: (app) => {
      app.get('/healthz', (_req, res, next) => {
        deps.health().then((h) => {
          res.status(h.status === 'ok' ? 200 : 503).json(h);
        }, next);
      });
    },
    signedIn: (app) => {
  app.get('/metrics', (_req, res, next) => {
    deps.metrics.registry.metrics().then((text) => {
      res.type(deps.metrics.registry.contentType).send(text);
    }, next);
  });
  // The newest events (what `central events` shows; it asks here when the database is
  // the service's own PGlite folder, which only one process may open).
  app.get('/api/events', (req, res, next) => {
    const str = (k: string): string | undefined => (typeof req.query[k] === 'string' ? (req.query[k] as string) : undefined);
    const q: EventsQuery = { limit: Number(str('limit') ?? 20) || 20 };
    const site = str('site');
    const checkpoint = str('checkpoint');
    const since = str('since');
    if (site) q.site = site;
    if (checkpoint) q.checkpoint = checkpoint;
    if (since) {
      const ms = Date.parse(since);
      if (Number.isNaN(ms)) {
        res.status(400).json({ error: { code: 'CENTRAL_QUERY_INVALID', message: `since: expected an ISO timestamp, got "${since}"` } });
        return;
      }
      q.since = ms;
    }
    newestEvents(deps.db(), q).then((events) => res.json({ events }), next);
  });
  const ctx: ConsoleContext = {
    db: deps.db,
    now: console.now ?? Date.now,
    requireRole,
    ...(deps.changes ? { changes: deps.changes } : {}),
    ...(deps.escalateAfterMs !== undefined ? { escalateAfterMs: deps.escalateAfterMs } : {}),
    ...(deps.pusher ? { pusher: deps.pusher } : {}),
    ...(deps.sites ? { sites: deps.sites } : {}),
  };
  // One module per page; each adds its /api/… routes.
  mountPages(app, ctx);
  mountCharts(app, ctx);
  mountTracing(app, ctx);
  mountVisitors(app, ctx);
  mountScreening(app, ctx);
    },
  });
  return app;
}

export function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}
