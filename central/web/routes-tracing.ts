// Contact tracing and its audit log (issue 12, item 6). A query names a person by site and
// staff id (the office maps it to the site's pseudonym with the key it holds), a window
// and ±N minutes, and a reason; it is recorded in trace_queries by the very statement that
// reads its results (central/console/tracing.ts). The export is a query too, recorded the
// same way with its own reason, and answered as CSV. Querying needs duty-leader (or admin);
// the log is readable by every signed-in officer and nothing here can change or erase it.
import type express from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { jsonBody, parseBody } from '../../gateway/http/body.js';
import { CSV_BOM, csvCell, localTime } from '../../gateway/http/csv.js';
import { HttpError } from '../../gateway/http/errors.js';
import {
  MAX_MINUTES,
  MIN_REASON_CHARS,
  meaningfulReason,
  recordedTrace,
  rosterPerson,
  traceLog,
  windowProblem,
  type RosterPerson,
  type TraceRequest,
  type TraceResult,
} from '../console/tracing.js';
import { clientOf, sessionOf, type ConsoleContext } from './context.js';

const TRACE_EXAMPLE = '{"site": "mine-a", "staffId": "E1001", "from": "2026-12-01T00:00:00+08:00", "to": "2026-12-08T00:00:00+08:00", "minutes": 15, "reason": "发热病例 E1001 的密接排查"}';
const time = z.union([z.number().int().nonnegative(), z.string().min(1).max(40)]);
const traceBody = z.strictObject({
  site: z.string().min(1).max(64),
  staffId: z.string().min(1).max(64),
  from: time,
  to: time,
  minutes: z.number().int().min(1).max(MAX_MINUTES),
  reason: z.string(),
});

function epochMs(v: number | string, key: string): number {
  const n = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(n) || (typeof v === 'string' && !/(Z|[+-]\d\d:?\d\d)$/i.test(v))) {
    throw new HttpError(400, 'BAD_BODY', `body field '${key}': expected epoch ms or an ISO time with its zone (e.g. 2026-12-01T08:00:00+08:00), got ${JSON.stringify(String(v).slice(0, 40))}`);
  }
  return n;
}

interface Asked {
  q: TraceRequest;
  reason: string;
}

/** The request's reason (refused first, before anything else is looked at), person and window. */
function askedOf(req: Request, ctx: ConsoleContext): Asked {
  // A body that is not JSON at all is BAD_BODY (parseBody below); one without a reason is this.
  const reason = meaningfulReason(typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>)['reason'] : undefined);
  if (reason === null && req.body !== undefined) {
    throw new HttpError(400, 'TRACE_REASON_REQUIRED', `body field 'reason': say why this tracing is needed, at least ${MIN_REASON_CHARS} letters or digits (e.g. "发热病例 E1001 的密接排查"); every query is recorded with it`);
  }
  const body = parseBody(traceBody, req, TRACE_EXAMPLE);
  const subject = ctx.sites?.pseudonymOf(body.site, body.staffId) ?? null;
  if (subject === null) {
    throw new HttpError(400, 'SITE_UNKNOWN', `body field 'site': the office holds no pseudonym key for site ${JSON.stringify(body.site)} (config sites.<site>.pseudonymSecretFile); known: ${ctx.sites?.list().map((s) => s.id).join(', ') || 'none'}`);
  }
  const from = epochMs(body.from, 'from');
  const to = epochMs(body.to, 'to');
  const problem = windowProblem(from, to, body.minutes);
  if (problem !== null) throw new HttpError(400, 'BAD_BODY', `body field ${problem}`);
  return { q: { site: body.site, staffId: body.staffId, subject, from, to, minutes: body.minutes }, reason: reason! };
}

async function run(req: Request, res: Response, ctx: ConsoleContext, exported: boolean): Promise<{ asked: Asked; person: RosterPerson; result: TraceResult }> {
  const asked = askedOf(req, ctx);
  const s = sessionOf(res);
  const person = await rosterPerson(ctx.db(), asked.q.site, asked.q.staffId);
  const result = await recordedTrace(ctx.db(), asked.q, { at: ctx.now(), officerId: s.officerId, role: s.role, client: clientOf(req), reason: asked.reason, export: exported });
  ctx.changes?.changed(['tracing']);
  return { asked, person, result };
}

const TRACE_CSV_COLUMNS = [
  'traced_site', 'traced_staff_id', 'passage_time', 'checkpoint', 'lane', 'kind', 'outcome',
  'contact_name', 'contact_staff_id', 'contact_department', 'contact_pseudonym', 'contact_time', 'offset_min',
] as const;

/** One line per (passage, contact); a passage without contacts is one line with the contact cells empty. */
function traceCsv(q: TraceRequest, result: TraceResult): string {
  const line = (cells: (string | number | null)[]): string => `${cells.map(csvCell).join(',')}\r\n`;
  let out = `${CSV_BOM}${TRACE_CSV_COLUMNS.join(',')}\r\n`;
  for (const p of result.passages) {
    const head = [q.site, q.staffId, localTime(Date.parse(p.at)), p.checkpoint, p.lane, p.kind, p.outcome];
    if (p.contacts.length === 0) out += line([...head, null, null, null, null, null, null]);
    for (const c of p.contacts) out += line([...head, c.name, c.staffId, c.department, c.subject, localTime(Date.parse(c.at)), Number((c.offsetS / 60).toFixed(1))]);
  }
  return out;
}

function intQuery(req: Request, key: string): number | undefined {
  const v = req.query[key];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) throw new HttpError(400, 'BAD_PARAMETER', `${key}: expected a whole number, got ${JSON.stringify(String(v).slice(0, 20))}`);
  return Number(v);
}

export function mountTracing(r: express.Router, ctx: ConsoleContext): void {
  // The sites the office can trace in (those it holds a pseudonym key for).
  r.get('/api/tracing/sites', (_req, res) => {
    res.json({ sites: ctx.sites?.list() ?? [] });
  });

  // duty-leader (admin passes every role check): tracing is the shift's response to a
  // case, at any hour; see docs/central.md "Contact tracing" for why not viewers.
  r.post('/api/tracing', ctx.requireRole('duty-leader'), jsonBody(TRACE_EXAMPLE), async (req, res) => {
    const { asked, person, result } = await run(req, res, ctx, false);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      person: { site: asked.q.site, ...person },
      window: { from: new Date(asked.q.from).toISOString(), to: new Date(asked.q.to).toISOString(), minutes: asked.q.minutes },
      ...result,
    });
  });

  // A POST, not a GET: the export is a recorded query with its own reason, so it changes
  // state and takes the CSRF token like every other such route.
  r.post('/api/tracing/export', ctx.requireRole('duty-leader'), jsonBody(TRACE_EXAMPLE), async (req, res) => {
    const { asked, result } = await run(req, res, ctx, true);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', `attachment; filename="trace-${result.id}.csv"`);
    res.type('text/csv; charset=utf-8').send(traceCsv(asked.q, result));
  });

  // The log of every query and export: any signed-in officer reads it; nothing erases it.
  r.get('/api/audit/tracing', async (req, res) => {
    const limit = intQuery(req, 'limit');
    const before = intQuery(req, 'before');
    const entries = await traceLog(ctx.db(), { ...(limit !== undefined ? { limit } : {}), ...(before !== undefined ? { before } : {}) });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ entries });
  });
}
