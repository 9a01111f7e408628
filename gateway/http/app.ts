// The HTTP app of the gateway (express): kiosk page and assets, lane snapshots (JSON and
// server-sent events), health, metrics, the ledger query, the guard console and, for
// simulated lanes only, device controls. It reads the lanes, the bus and the store; it
// never talks to telemetry directly. Every request first passes the Host allow-list
// (hosts.ts); what is open without a guard session is listed in access.ts. server.ts
// listens first and loads this module (express, prom-client, the API schemas) after.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { HttpError, sendError } from './errors.js';
import { eventsResponse, parseEventsQuery } from './events.js';
import { guardRouter } from './guard-api.js';
import { guardTexts, renderGuardPage } from './guard-page.js';
import { FONT_CSS_PATH, FONT_FILE_ROUTE, loadKioskFont, type KioskFont } from './kiosk-font.js';
import { findKioskPaths, renderKioskPage, unknownLanePage, type KioskPaths } from './kiosk-page.js';
import { kioskSnapshot, metricsToken, noGuardConsole } from './access.js';
import { allowedHostSet, hostAllowList } from './hosts.js';
import { requireSession, sameOriginOnly, securityHeaders } from './security.js';
import { createMetrics } from './metrics.js';
import { simRouter } from './sim.js';
import { streamLanes } from './sse.js';
import type { LaneHandle } from '../lane/types.js';
import type { HttpAccess, HttpDeps } from './server.js';

/** The query string of a request, parsed the one way every route here uses. */
function searchOf(req: Request): URLSearchParams {
  const i = req.originalUrl.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : req.originalUrl.slice(i + 1));
}

/** A single optional query parameter; repeating it is an error rather than a guess. */
function singleParam(search: URLSearchParams, name: string): string | undefined {
  const values = search.getAll(name);
  if (values.length > 1) {
    throw new HttpError(400, 'BAD_PARAMETER', `query parameter '${name}': expected one value, got ${values.length}`);
  }
  return values[0];
}

/** The status of a client error raised with a 4xx `status` (http-errors, the router's URIError); else undefined. */
function clientErrorStatus(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { status?: unknown; statusCode?: unknown };
  const status = typeof e.status === 'number' ? e.status : e.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return status;
}

export function createHttpApp(
  deps: HttpDeps,
  access: HttpAccess = { allowedHosts: allowedHostSet('127.0.0.1'), metricsToken: null },
): express.Express {
  const { lanes, logger } = deps;
  const now = deps.now ?? Date.now;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', 'strong');

  // Found on first use rather than at construction, so building the app never touches the disk.
  let paths: KioskPaths | undefined;
  const kioskPaths = (): KioskPaths => (paths ??= findKioskPaths());

  const laneById = (id: string): LaneHandle | undefined => lanes.find((l) => l.id === id);

  // helmet: nosniff, frame denial, no referrer, and a CSP that allows only this server
  // (kiosk and console pages and scripts come only from here: no CDN, no inline script).
  app.use(securityHeaders());
  // Before any route, 404s included: a rebound name gets nothing from this server.
  app.use(hostAllowList(access.allowedHosts));

  // A guard session (cookie) for what is not open; refuses when no console is mounted.
  const guardSession =
    deps.guard === undefined
      ? [noGuardConsole]
      : [sameOriginOnly, requireSession(deps.guard.sessions, (id) => deps.guard?.accounts.get(id) !== undefined)];
  const view = (l: LaneHandle) => kioskSnapshot(l.snapshot(), now(), deps.kioskResetMs);

  // ---- kiosk ----
  app.get('/', async (req, res) => {
    const requested = singleParam(searchOf(req), 'lane');
    const lane = requested === undefined ? lanes[0] : laneById(requested);
    res.setHeader('Cache-Control', 'no-store');
    if (lane === undefined) {
      res
        .status(lanes.length === 0 ? 503 : 400)
        .type('html')
        .send(unknownLanePage(requested ?? '', lanes));
      return;
    }
    const template = await readFile(join(kioskPaths().sourceDir, 'index.html'), 'utf8');
    const snap = lane.snapshot();
    res.type('html').send(
      renderKioskPage(template, {
        lane: lane.id,
        laneName: snap.name,
        healthChecks: snap.healthChecks ?? 'on',
        resetMs: deps.kioskResetMs,
        serverNow: Date.now(),
      }),
    );
  });

  for (const sheet of ['kiosk.css', 'guard.css']) {
    app.get(`/${sheet}`, (_req, res, next) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(sheet, { root: kioskPaths().sourceDir }, (err) => {
        if (err) next(err);
      });
    });
  }

  // The kiosk's self-hosted CJK font (kiosk-font.ts): its stylesheet, and only the font
  // files that stylesheet names. A missing package leaves the kiosk on the PC's fonts.
  let font: KioskFont | Error | undefined;
  const kioskFont = (): KioskFont => {
    if (font === undefined) {
      try {
        font = loadKioskFont();
      } catch (err) {
        font = err instanceof Error ? err : new Error(String(err));
        logger.error({ err: font }, 'kiosk font unavailable; the kiosk falls back to the fonts installed on this PC');
      }
    }
    if (font instanceof Error) throw new HttpError(404, 'NOT_FOUND', 'the kiosk font is not installed on this gateway');
    return font;
  };
  app.get(FONT_CSS_PATH, (_req, res) => {
    const css = kioskFont().css;
    res.setHeader('Cache-Control', 'no-cache');
    res.type('css').send(css);
  });
  app.get(/^\/fonts\//, (req, res, next) => {
    const m = FONT_FILE_ROUTE.exec(req.path);
    const f = kioskFont();
    const file = m?.[2];
    if (m === null || m[1] !== f.version || file === undefined || !f.files.has(file)) {
      throw new HttpError(404, 'NOT_FOUND', `no font file ${req.path}`);
    }
    // The package version is in the path: a file never changes under its URL.
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.sendFile(file, { root: f.dir }, (err) => {
      if (err) next(err);
    });
  });

  // ---- guard console ----
  if (deps.guard !== undefined) {
    const texts = guardTexts();
    app.get('/guard', async (_req, res) => {
      const template = await readFile(join(kioskPaths().sourceDir, 'guard.html'), 'utf8');
      res.setHeader('Cache-Control', 'no-store');
      const snaps = lanes.map((l) => l.snapshot());
      const accessOnly = snaps.length > 0 && snaps.every((s) => s.healthChecks === 'off');
      res.type('html').send(renderGuardPage(template, texts, snaps.map((s) => ({ id: s.lane, name: s.name })), accessOnly ? 'off' : 'on', deps.retention));
    });
    app.use('/api', guardRouter({ ...deps.guard, lanes, bus: deps.bus, logger, health: deps.health, ...(deps.retention ? { personalDataDays: deps.retention.personalDataDays } : {}) }));
  }

  // Compiled browser modules (kiosk.js and what it imports), from dist/kiosk-ui.
  app.get(/^\/([a-z][a-z0-9-]*)\.js$/, (req, res) => {
    const file = `${String(req.params[0])}.js`;
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(file, { root: kioskPaths().scriptDir }, (err) => {
      if (!err) return;
      if (file === 'kiosk.js') {
        logger.error({ err, dir: kioskPaths().scriptDir }, 'kiosk script missing: run `npx tsc -p kiosk-ui/tsconfig.json`');
      }
      if (!res.headersSent) sendError(res, 404, 'NOT_FOUND', `no script ${file}`);
    });
  });

  // ---- lanes ----
  app.get('/api/lanes', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ lanes: lanes.map(view) });
  });

  app.get('/api/stream', (req, res) => {
    const requested = singleParam(searchOf(req), 'lane');
    let selected: LaneHandle[] = lanes;
    if (requested !== undefined) {
      const lane = laneById(requested);
      if (lane === undefined) {
        throw new HttpError(
          400,
          'BAD_PARAMETER',
          `query parameter 'lane': expected one of ${lanes.map((l) => l.id).join(', ') || '(no lanes)'}, got ${JSON.stringify(requested)}`,
        );
      }
      selected = [lane];
    }
    streamLanes(req, res, selected, { bus: deps.bus, logger, view: (s) => kioskSnapshot(s, now(), deps.kioskResetMs) });
  });

  // ---- metrics (Prometheus text format) ----
  const metrics = createMetrics({ bus: deps.bus, health: deps.health });
  app.locals.stopMetrics = metrics.stop;
  // A scraper sends the bearer token; a signed-in guard's browser may look too.
  const metricsAuth = [
    metricsToken(access.metricsToken),
    ...guardSession.map((h): express.RequestHandler => (req, res, next) => (res.locals['metricsToken'] === true ? next() : h(req, res, next))),
  ];
  app.get('/metrics', ...metricsAuth, async (_req, res) => {
    res.removeHeader('WWW-Authenticate');
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(await metrics.registry.metrics());
  });

  // ---- health ----
  app.get('/healthz', (_req, res) => {
    const report = deps.health();
    res.setHeader('Cache-Control', 'no-store');
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });

  // ---- ledger ----
  // A person's passages (outcome, reasons, temperature): guards only.
  app.get('/api/events', ...guardSession, (req, res) => {
    const q = parseEventsQuery(searchOf(req));
    res.setHeader('Cache-Control', 'no-store');
    res.json(eventsResponse(deps.store.queryEvents(q), q.limit));
  });

  // ---- simulated devices ----
  if (deps.simEnabled) {
    app.use('/api/sim', simRouter(lanes));
  }

  app.use((req, res) => {
    sendError(res, 404, 'NOT_FOUND', `no route ${req.method} ${req.path}`);
  });

  const onError: ErrorRequestHandler = (err: unknown, req, res, _next) => {
    if (res.headersSent) {
      // Mid-stream (e.g. SSE): nothing sensible can be sent any more.
      logger.error({ err, method: req.method, path: req.path }, 'http error after response started');
      res.end();
      return;
    }
    if (err instanceof HttpError) {
      sendError(res, err.status, err.code, err.publicMessage);
      return;
    }
    // A client error raised by express itself or a library (http-errors with a 4xx
    // status, e.g. a path that is not valid percent-encoding): the client's to fix, so a
    // 400-range answer and an info line without a stack, never a 500.
    const clientStatus = clientErrorStatus(err);
    if (clientStatus !== undefined) {
      logger.info({ method: req.method, path: req.path, status: clientStatus, reason: (err as Error).message }, 'http request refused');
      sendError(res, clientStatus, 'BAD_REQUEST', `malformed request: ${(err as Error).message.slice(0, 120)}`);
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'http request failed');
    sendError(res, 500, 'INTERNAL', 'internal error; see the gateway log');
  };
  app.use(onError);

  return app;
}
