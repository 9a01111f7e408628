// The console's data routes (issue 12, items 2 and 3): the checkpoints overview, the
// alerts inbox and its acknowledgement, and the live-refresh stream. Mounted after the
// session check (central/web/app.ts), so every route here needs a signed-in officer.
import type express from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { jsonBody, parseBody } from '../../gateway/http/body.js';
import { HttpError } from '../../gateway/http/errors.js';
import { ackAlerts, ackShown, alertsInbox, type AlertFilter, type InboxQuery, type Severity } from '../console/alerts.js';
import { checkpointsOverview } from '../console/checkpoints.js';
import { audit } from './audit.js';
import { sessionOf, type ConsoleContext } from './context.js';

export const DEFAULT_ESCALATE_AFTER_MS = 15 * 60_000;
const SEVERITIES = ['info', 'warning', 'critical'] as const;

export type PagesDeps = ConsoleContext;
const name = z.string().min(1).max(64);
const filterSchema = z.strictObject({
  site: name.optional(),
  checkpoint: name.optional(),
  severities: z.array(z.enum(SEVERITIES)).max(3).optional(),
  from: z.number().int().optional(),
  to: z.number().int().optional(),
});
const ackBody = z.union([
  z.strictObject({ ids: z.array(z.string().min(1).max(64)).min(1).max(5000) }),
  z.strictObject({ shown: filterSchema }),
]);
const ACK_EXAMPLE = '{"ids": ["<alert uuid>", …]} or {"shown": {"checkpoint": "gate-1", "severities": ["critical"], "to": <ms the page was read at>}}';

function q(req: Request, key: string): string | undefined {
  const v = req.query[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function intParam(req: Request, key: string): number | undefined {
  const v = q(req, key);
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new HttpError(400, 'BAD_PARAMETER', `${key}: expected epoch ms or an ISO timestamp, got "${v.slice(0, 40)}"`);
  return n;
}

export function mountPages(r: express.Router, deps: PagesDeps): void {
  const escalateAfterMs = deps.escalateAfterMs ?? DEFAULT_ESCALATE_AFTER_MS;

  r.get('/api/checkpoints', async (req, res) => {
    const site = q(req, 'site');
    const now = deps.now();
    res.setHeader('Cache-Control', 'no-store');
    res.json({ at: new Date(now).toISOString(), checkpoints: await checkpointsOverview(deps.db(), site === undefined ? {} : { site }, now) });
  });

  r.get('/api/alerts', async (req, res) => {
    const now = deps.now();
    const query: InboxQuery = { escalateAfterMs, unackedOnly: q(req, 'unacked') === '1' || q(req, 'unacked') === 'true' };
    const site = q(req, 'site');
    const checkpoint = q(req, 'checkpoint');
    if (site) query.site = site;
    if (checkpoint) query.checkpoint = checkpoint;
    const sev = q(req, 'severity');
    if (sev) {
      const list = sev.split(',');
      for (const s of list) if (!(SEVERITIES as readonly string[]).includes(s)) throw new HttpError(400, 'BAD_PARAMETER', `severity: one of info, warning, critical, got "${s.slice(0, 20)}"`);
      query.severities = list as Severity[];
    }
    const limit = intParam(req, 'limit');
    const before = intParam(req, 'before');
    const to = intParam(req, 'to');
    if (limit !== undefined) query.limit = limit;
    if (before !== undefined) query.before = before;
    // Pin the window's end, so "acknowledge all shown" covers what this read showed.
    query.to = to ?? now;
    res.setHeader('Cache-Control', 'no-store');
    res.json({ at: new Date(now).toISOString(), to: query.to, alerts: await alertsInbox(deps.db(), query, now) });
  });

  r.post('/api/alerts/ack', deps.requireRole('duty-leader'), jsonBody(ACK_EXAMPLE), async (req, res) => {
    const body = parseBody(ackBody, req, ACK_EXAMPLE);
    const s = sessionOf(res);
    const now = deps.now();
    let result;
    if ('ids' in body) {
      result = await ackAlerts(deps.db(), body.ids, s.officerId, now);
    } else {
      const f: AlertFilter = {};
      const sh = body.shown;
      if (sh.site !== undefined) f.site = sh.site;
      if (sh.checkpoint !== undefined) f.checkpoint = sh.checkpoint;
      if (sh.severities !== undefined) f.severities = sh.severities;
      if (sh.from !== undefined) f.from = sh.from;
      f.to = Math.min(sh.to ?? now, now);
      result = await ackShown(deps.db(), f, s.officerId, now);
    }
    await audit(deps.db(), {
      at: now,
      officerId: s.officerId,
      action: 'alerts-acked',
      client: req.socket.remoteAddress ?? 'unknown',
      detail: { count: result.acked.length, ...('ids' in body ? { requested: body.ids.length } : { shown: body.shown }) },
    });
    deps.changes?.changed(['alerts']);
    res.json({ acked: result.acked, count: result.acked.length });
  });

  // Server-sent events: "changed" notices only; the page re-fetches what it shows.
  r.get('/api/stream', (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 5000\n\n');
    const unsubscribe = deps.changes?.subscribe((kinds) => res.write(`event: changed\ndata: ${JSON.stringify({ changed: kinds })}\n\n`)) ?? (() => undefined);
    // A comment every 25 s keeps proxies from closing an idle stream.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 25_000);
    // The stream ends with the session's lifetime; the browser's reconnect then gets 401.
    const lifetime = setTimeout(() => res.end(), Math.min(Math.max(0, sessionOf(res).expiresAt - deps.now()), 2 ** 31 - 1));
    req.on('close', () => {
      clearInterval(keepAlive);
      clearTimeout(lifetime);
      unsubscribe();
    });
  });
}
