// The charts page's routes (issue 12, item 7): the three charts' data and the charting
// library itself (uPlot, from node_modules, never a CDN). Mounted after the session
// check, so every route here needs a signed-in officer and a same-origin request; any
// role reads them. Query parameters are strict: an unknown or repeated one is a 400.
import { createRequire } from 'node:module';
import path from 'node:path';
import type express from 'express';
import type { Request } from 'express';
import { HttpError, sendError } from '../../gateway/http/errors.js';
import {
  DEFAULT_FEVER_DAYS,
  DEFAULT_REFUSAL_DAYS,
  MAX_CHART_DAYS,
  chinaDate,
  chinaDayStart,
  feverAlertsPerDay,
  passagesPerHour,
  refusalsByReason,
} from '../console/charts.js';
import type { ConsoleContext } from './context.js';

// The gateway's site id (gateway/config/schema.ts): what a topic level can name.
const SITE_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const DAYS = /^[1-9]\d{0,2}$/;

/** The query's single string values; a key outside `allowed` or given twice is refused. */
function strictQuery(req: Request, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (!allowed.includes(key)) {
      throw new HttpError(400, 'BAD_PARAMETER', `unknown parameter "${key.slice(0, 40)}": ${req.path} takes ${allowed.join(', ')}`);
    }
    if (typeof value !== 'string') throw new HttpError(400, 'BAD_PARAMETER', `${key}: expected one value`);
    if (value !== '') out[key] = value;
  }
  return out;
}

function siteOf(q: Record<string, string>): { site?: string } {
  const site = q['site'];
  if (site === undefined) return {};
  if (!SITE_ID.test(site)) throw new HttpError(400, 'BAD_PARAMETER', `site: expected a site id (lowercase letters, digits and "-", at most 32), got "${site.slice(0, 40)}"`);
  return { site };
}

function daysOf(q: Record<string, string>, fallback: number): number {
  const v = q['days'];
  if (v === undefined) return fallback;
  const n = DAYS.test(v) ? Number(v) : Number.NaN;
  if (!(n >= 1 && n <= MAX_CHART_DAYS)) throw new HttpError(400, 'BAD_PARAMETER', `days: expected a whole number 1-${MAX_CHART_DAYS}, got "${v.slice(0, 20)}"`);
  return n;
}

// uPlot's ES module and stylesheet: two fixed names, nothing else under /assets/vendor/.
const UPLOT_DIST = path.dirname(createRequire(import.meta.url).resolve('uplot'));
const VENDOR: Record<string, { file: string; type: string }> = {
  '/assets/vendor/uplot.js': { file: 'uPlot.esm.js', type: 'text/javascript' },
  '/assets/vendor/uplot.css': { file: 'uPlot.min.css', type: 'text/css' },
};

export function mountCharts(r: express.Router, ctx: ConsoleContext): void {
  r.get('/api/charts/passages', async (req, res) => {
    const q = strictQuery(req, ['date', 'site']);
    const now = ctx.now();
    const date = q['date'] ?? chinaDate(now);
    if (Number.isNaN(chinaDayStart(date))) throw new HttpError(400, 'BAD_PARAMETER', `date: expected a China-time date YYYY-MM-DD, e.g. ${chinaDate(now)}, got "${date.slice(0, 20)}"`);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ at: new Date(now).toISOString(), ...(await passagesPerHour(ctx.db(), { date, ...siteOf(q) }, now)) });
  });

  r.get('/api/charts/refusals', async (req, res) => {
    const q = strictQuery(req, ['days', 'site']);
    const now = ctx.now();
    res.setHeader('Cache-Control', 'no-store');
    res.json({ at: new Date(now).toISOString(), ...(await refusalsByReason(ctx.db(), { days: daysOf(q, DEFAULT_REFUSAL_DAYS), ...siteOf(q) }, now)) });
  });

  r.get('/api/charts/fever', async (req, res) => {
    const q = strictQuery(req, ['days', 'site']);
    const now = ctx.now();
    res.setHeader('Cache-Control', 'no-store');
    res.json({ at: new Date(now).toISOString(), ...(await feverAlertsPerDay(ctx.db(), { days: daysOf(q, DEFAULT_FEVER_DAYS), ...siteOf(q) }, now)) });
  });

  for (const [route, asset] of Object.entries(VENDOR)) {
    r.get(route, (_req, res, next) => {
      // Revalidated each time (ETag from sendFile): a new uPlot version is picked up at once.
      res.setHeader('Cache-Control', 'no-cache');
      res.type(asset.type);
      res.sendFile(asset.file, { root: UPLOT_DIST }, (err) => {
        if (err && !res.headersSent) sendError(res, 404, 'NOT_FOUND', `no asset ${route}`);
        else if (err) next(err);
      });
    });
  }
}
