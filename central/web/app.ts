// The office console's HTTP side, mounted by central/http.ts. Open: /healthz, the
// sign-in page and its assets, and the sign-in itself (same-origin only). Everything else
// — the page shell, /api/*, /metrics, unknown paths — needs a session (401), refuses
// requests another site makes a browser send (403), and needs the session's CSRF token
// on a state-changing request. /metrics also takes the http.metricsTokenFile bearer
// token, /api/events the local CLI token (see cli-token.ts). Host allow-list first (421).
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { bearerMatches } from '../../gateway/http/access.js';
import { jsonBody, parseBody } from '../../gateway/http/body.js';
import { HttpError, sendError } from '../../gateway/http/errors.js';
import { allowedHostSet, hostAllowList } from '../../gateway/http/hosts.js';
import { RateLimiter, readCookie, requireCsrf, sameOriginOnlyFor, securityHeaders } from '../../gateway/http/security.js';
import type { Db } from '../db/adapter.js';
import { audit, recentAudit } from './audit.js';
import { Officers, type Role } from './officers.js';
import { clientOf, sessionOf } from './context.js';
import { Sessions } from './sessions.js';

export const OFFICE_COOKIE = 'office_session';
export const SIGN_IN_PATH = '/sign-in';
/** Sent by the pages on their automatic re-fetches and by the live stream's request. */
export const BACKGROUND_HEADER = 'x-console-background';

export interface ConsoleDeps {
  db: () => Db;
  listenHost: string;
  allowedHosts: readonly string[];
  metricsToken: string | null;
  cliToken: string | null;
  sessionTtlMs: number;
  idleTimeoutMs: number;
  lockoutFailures: number;
  lockoutMs: number;
  /** Sign-in attempts per client address per minute (every account together); default 20. */
  signInPerMinute?: number;
  now?: () => number;
  logger?: Logger;
}

interface UiPaths {
  sourceDir: string;
  scriptDir: string;
}

function findUiPaths(fromUrl: string = import.meta.url): UiPaths {
  let dir = dirname(fileURLToPath(fromUrl));
  const top = parse(dir).root;
  for (;;) {
    if (existsSync(join(dir, 'office-ui', 'index.html'))) return { sourceDir: join(dir, 'office-ui'), scriptDir: join(dir, 'dist', 'office-ui') };
    if (dir === top) throw new Error(`office-ui/index.html not found above ${fileURLToPath(fromUrl)}`);
    dir = dirname(dir);
  }
}

export const ROLE_LABELS: Record<Role, { zh: string; en: string }> = {
  viewer: { zh: '查看员', en: 'Viewer' },
  'duty-leader': { zh: '值班负责人', en: 'Duty leader' },
  admin: { zh: '管理员', en: 'Administrator' },
};

function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const v = values[name];
    return v === undefined ? whole : escapeHtml(v);
  });
}


/** Requires one of `roles` (admin always passes). */
export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const s = sessionOf(res);
    if (s.role !== 'admin' && !roles.includes(s.role)) {
      throw new HttpError(403, 'ROLE_REQUIRED', `needs the role ${roles.join(' or ')}; you are ${s.role}`);
    }
    next();
  };
}

const signInBody = z.strictObject({ id: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
const SIGN_IN_EXAMPLE = '{"id": "wang.li", "password": "…"}';

/** Mounts the console on `app`; `routes` adds the session-protected routes (API, metrics). */
export function mountConsole(
  app: express.Express,
  deps: ConsoleDeps,
  routes: { open: (r: express.Express) => void; signedIn: (r: express.Router) => void },
): void {
  const now = deps.now ?? Date.now;
  let ui: UiPaths | undefined;
  const uiPaths = (): UiPaths => (ui ??= findUiPaths());
  const officers = (): Officers => new Officers(deps.db(), { maxFailures: deps.lockoutFailures, lockoutMs: deps.lockoutMs, now });
  const sessions = (): Sessions => new Sessions(deps.db(), { ttlMs: deps.sessionTtlMs, idleMs: deps.idleTimeoutMs, now });
  const sameOrigin = sameOriginOnlyFor(SIGN_IN_PATH);
  // The account lockout stops guessing one password; this stops one address trying many accounts.
  const signInLimiter = new RateLimiter(deps.signInPerMinute ?? 20, 60_000, now);

  app.use(securityHeaders());
  app.use(hostAllowList(allowedHostSet(deps.listenHost, deps.allowedHosts)));
  routes.open(app);

  app.get(SIGN_IN_PATH, async (_req, res) => {
    const page = await readFile(join(uiPaths().sourceDir, 'sign-in.html'), 'utf8');
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(page);
  });
  app.get('/assets/:file', (req, res, next) => {
    const file = req.params.file;
    const m = /^[a-z0-9-]+\.(css|js)$/.exec(file);
    if (m === null) throw new HttpError(404, 'NOT_FOUND', `no asset ${file}`);
    const root = m[1] === 'css' ? uiPaths().sourceDir : uiPaths().scriptDir;
    res.sendFile(file, { root }, (err) => {
      if (err && !res.headersSent) sendError(res, 404, 'NOT_FOUND', `no asset ${file}`);
      else if (err) next(err);
    });
  });

  app.post('/api/session', sameOrigin, jsonBody(SIGN_IN_EXAMPLE), async (req, res) => {
    const wait = signInLimiter.hit(clientOf(req));
    if (wait > 0) {
      res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      throw new HttpError(429, 'RATE_LIMITED', `too many sign-in attempts from this address; try again in ${Math.ceil(wait / 1000)} s`);
    }
    const body = parseBody(signInBody, req, SIGN_IN_EXAMPLE);
    const result = await officers().signIn(body.id, body.password, clientOf(req));
    if (!result.ok) {
      if (result.code === 'ACCOUNT_LOCKED') {
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
        throw new HttpError(423, 'ACCOUNT_LOCKED', `too many failed sign-ins: the account is locked for ${Math.ceil(result.retryAfterMs / 60_000)} min`);
      }
      throw new HttpError(401, 'SIGN_IN_FAILED', 'wrong id or password');
    }
    const { token, csrfToken } = await sessions().create(result.officer.id);
    res.cookie(OFFICE_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: deps.sessionTtlMs });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ officer: { id: result.officer.id, name: result.officer.name, role: result.officer.role }, csrfToken });
  });

  // Bearer tokens for the two non-browser readers; a wrong token is refused outright.
  app.use((req, res, next) => {
    const auth = req.get('authorization');
    if (auth === undefined) return next();
    const token = req.method === 'GET' && req.path === '/metrics' ? deps.metricsToken : req.method === 'GET' && req.path === '/api/events' ? deps.cliToken : null;
    if (token !== null && bearerMatches(auth, token)) {
      res.locals['bearer'] = true;
      return next();
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="central"');
    throw new HttpError(401, 'UNAUTHENTICATED', 'wrong or unexpected bearer token');
  });

  const protectedRoutes = express.Router();
  protectedRoutes.use(sameOrigin);
  protectedRoutes.use(async (req, res, next) => {
    if (res.locals['bearer'] === true) return next();
    const token = readCookie(req.headers, OFFICE_COOKIE);
    // A page's automatic re-fetch (live notice, fallback timer) says so: not activity.
    const background = req.method === 'GET' && req.get(BACKGROUND_HEADER) === '1';
    const session = await sessions().get(token, !background);
    if (session === undefined) throw new HttpError(401, 'UNAUTHENTICATED', `sign in at ${SIGN_IN_PATH} first (no session, or it has expired)`);
    res.locals['officerSession'] = session;
    res.locals['sessionToken'] = token;
    // requireCsrf reads the token from res.locals.session, as on the gateway.
    res.locals['session'] = { csrfToken: session.csrfToken };
    next();
  });
  protectedRoutes.use(requireCsrf);

  protectedRoutes.get('/', async (_req, res) => {
    const s = sessionOf(res);
    const template = await readFile(join(uiPaths().sourceDir, 'index.html'), 'utf8');
    const label = ROLE_LABELS[s.role];
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(render(template, { name: s.name, officerId: s.officerId, role: s.role, roleLabel: `${label.zh} · ${label.en}`, csrfToken: s.csrfToken }));
  });
  protectedRoutes.get('/api/session', (_req, res) => {
    const s = sessionOf(res);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ officer: { id: s.officerId, name: s.name, role: s.role }, csrfToken: s.csrfToken, expiresAt: new Date(s.expiresAt).toISOString() });
  });
  protectedRoutes.delete('/api/session', async (req, res) => {
    const s = sessionOf(res);
    await sessions().end(res.locals['sessionToken'] as string);
    await audit(deps.db(), { at: now(), officerId: s.officerId, action: 'sign-out', client: clientOf(req) });
    res.clearCookie(OFFICE_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
    res.status(204).end();
  });
  protectedRoutes.get('/api/audit', requireRole('admin'), async (req, res) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query['limit'] ?? 100) || 100));
    res.json({ entries: await recentAudit(deps.db(), limit) });
  });
  // The caller's routes, after the session check (bearer requests arrive without one).
  routes.signedIn(protectedRoutes);
  app.use(protectedRoutes);

  app.use((req, _res) => {
    throw new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.path}`);
  });
  app.use(errorHandler(deps.logger));
}

function errorHandler(logger: Logger | undefined): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (res.headersSent) return;
    if (err instanceof HttpError) {
      // A person opening the shell without a session gets a page that leads to sign-in.
      if (err.status === 401 && req.method === 'GET' && !req.path.startsWith('/api/') && req.path !== '/metrics' && req.accepts(['json', 'html']) === 'html') {
        res.status(401).type('html').send(
          `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${SIGN_IN_PATH}"><title>请先登录 · Sign in first</title></head><body><p><a href="${SIGN_IN_PATH}">请先登录 · Sign in first</a></p></body></html>`,
        );
        return;
      }
      sendError(res, err.status, err.code, err.publicMessage);
      return;
    }
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(res, status, 'BAD_REQUEST', `malformed request: ${(err as Error).message.slice(0, 120)}`);
      return;
    }
    logger?.error({ err }, 'console request failed');
    sendError(res, 500, 'INTERNAL', 'internal error; see the central service log');
  };
}
