// The charts page (issue 12, item 7): passages per checkpoint per hour of a China-time day
// (admitted as lines, refused and referred as bars on their own axis, so a handful of
// refusals stays visible beside hundreds of passages), refusals per reason per day, and
// fever alerts per day. Drawn with uPlot, served by the console itself
// (/assets/vendor/uplot.js, loaded when the page is first shown). Live: events and alerts
// notices re-render the page, at most once every LIVE_GAP_MS; the controls and the
// hidden/shown state of legend entries survive a re-render.
import type uPlot from 'uplot';
import { api, bi, el, refresh, time, type Page } from './lib.js';

type UPlot = typeof uPlot;

interface CheckpointHours {
  site: string;
  checkpoint: string;
  admitted: (number | null)[];
  refused: (number | null)[];
  referred: (number | null)[];
  totals: { admitted: number; refused: number; referred: number };
}
interface Passages {
  at: string;
  date: string;
  hoursBegun: number;
  checkpoints: CheckpointHours[];
}
interface Refusals {
  at: string;
  days: string[];
  refused: number[];
  reasons: { code: string; zh: string; en: string; counts: number[]; total: number }[];
}
interface Fever {
  at: string;
  days: string[];
  total: number[];
  sites: { site: string; counts: number[] }[];
}

/** Live re-renders at most this often, however busy the mine. */
const LIVE_GAP_MS = 5_000;
/** Lines per chart; the rest are summed into one "other" line. */
const MAX_LINES = 8;
const CHART_HEIGHT = 280;
// Okabe-Ito based, without red and amber (kept for refused and referred).
const PALETTE = ['#0072b2', '#009e73', '#cc79a7', '#56b4e9', '#6a3d9a', '#8c6d31', '#5b6470', '#1b1f24', '#e69f00'];
const REFUSED = '#b3261e';
const REFERRED = '#e0a100';
const FONT = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", system-ui, sans-serif';
const COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];

const state = { date: '', site: '', refusalDays: '14', feverDays: '30' };
const sites = new Set<string>();
/** Legend entries the officer switched off, by chart and label. */
const hidden = new Set<string>();
const plots = new Map<HTMLElement, uPlot>();
let root: HTMLElement | undefined;
let observer: ResizeObserver | undefined;
let lastLoad = -Infinity;
let liveTimer: ReturnType<typeof setTimeout> | undefined;

let lib: Promise<UPlot> | undefined;
function loadUplot(): Promise<UPlot> {
  if (document.querySelector('link[data-vendor="uplot"]') === null) document.head.append(el('link', { rel: 'stylesheet', href: '/assets/vendor/uplot.css', 'data-vendor': 'uplot' }));
  const url = '/assets/vendor/uplot.js';
  lib ??= (import(url) as Promise<{ default: UPlot }>).then(
    (m) => m.default,
    (err: unknown) => {
      lib = undefined; // try again on the next render
      throw err;
    },
  );
  return lib;
}

const text = (zh: string, en: string): string => `${zh} ${en}`;
const count = (_u: uPlot, v: number | null): string => (v === null || v === undefined ? '–' : String(v));
const sum = (xs: readonly (number | null)[]): number => xs.reduce<number>((a, b) => a + (b ?? 0), 0);

/** A count axis: whole-number ticks only, from 0. */
function countAxis(label: string, o: uPlot.Axis = {}): uPlot.Axis {
  return { label, font: `12px ${FONT}`, labelFont: `13px ${FONT}`, incrs: COUNT_INCRS, values: (_u, splits) => splits.map((v) => String(Math.round(v))), size: 56, ...o };
}
const countRange: uPlot.Scale.Range = (_u, _min, max) => [0, Math.max(4, Math.ceil((Number.isFinite(max) ? max : 0) * 1.1))];

/** A category x axis (hours or days): index → label. */
function categoryAxis(label: string, names: readonly string[], incrs: number[]): uPlot.Axis {
  return { label, font: `12px ${FONT}`, labelFont: `13px ${FONT}`, incrs, values: (_u, splits) => splits.map((v) => names[v] ?? '') };
}

function line(label: string, color: string, o: uPlot.Series = {}): uPlot.Series {
  return { label, stroke: color, width: 2, points: { show: true, size: 5 }, value: count, ...o };
}

function bars(U: UPlot, label: string, color: string, align: -1 | 0 | 1, scale: string): uPlot.Series {
  const build = U.paths.bars?.({ size: [align === 0 ? 0.6 : 0.32, 40], align });
  return { label, stroke: color, fill: `${color}cc`, width: 1, scale, points: { show: false }, value: count, ...(build ? { paths: build } : {}) };
}

/** Draws (or redraws) a chart into `host`, replacing the one there. */
function draw(U: UPlot, key: string, host: HTMLElement, opts: Omit<uPlot.Options, 'width' | 'height'>, data: uPlot.AlignedData): void {
  for (const [i, s] of opts.series.entries()) if (i > 0 && hidden.has(`${key}:${s.label}`)) s.show = false;
  const wrapper = el('div', { class: 'plot-inner' });
  const u = new U(
    {
      ...opts,
      width: Math.max(300, host.clientWidth),
      height: CHART_HEIGHT,
      hooks: {
        setSeries: [
          (self, i) => {
            const s = i === null ? undefined : self.series[i];
            if (s === undefined) return;
            const k = `${key}:${s.label}`;
            if (s.show === false) hidden.add(k);
            else hidden.delete(k);
          },
        ],
      },
    },
    data,
    wrapper,
  );
  plots.get(host)?.destroy();
  plots.set(host, u);
  host.replaceChildren(wrapper);
  observer?.observe(host);
}

function empty(host: HTMLElement, message: DocumentFragment): void {
  plots.get(host)?.destroy();
  plots.delete(host);
  host.replaceChildren(el('p', { class: 'placeholder empty' }, message));
}

const cpName = (c: CheckpointHours, manySites: boolean): string => (manySites ? `${c.site}/${c.checkpoint}` : c.checkpoint);
const hh = (h: number): string => `${String(h).padStart(2, '0')}:00`;
const HOURS = Array.from({ length: 24 }, (_, h) => hh(h));

function drawPassages(U: UPlot, section: HTMLElement, p: Passages): void {
  const host = section.querySelector<HTMLElement>('.plot')!;
  const cps = p.checkpoints;
  const admitted = sum(cps.map((c) => c.totals.admitted));
  const refused = sum(cps.map((c) => c.totals.refused));
  const referred = sum(cps.map((c) => c.totals.referred));
  section.dataset['total'] = String(admitted + refused + referred);
  section.querySelector('.sub')!.replaceChildren(bi(`${p.date}（北京时间）· 放行 ${admitted} · 拒绝 ${refused} · 待核 ${referred}`, `${p.date} (China time) · admitted ${admitted} · refused ${refused} · referred ${referred}`));
  renderTotals(section, cps);
  if (admitted + refused + referred === 0) {
    empty(host, p.hoursBegun === 0 ? bi('这一天还没有开始。', 'This day has not begun yet.') : bi(`${p.date} 没有通行记录。`, `No passages on ${p.date}.`));
    return;
  }
  const manySites = new Set(cps.map((c) => c.site)).size > 1;
  const ranked = [...cps].sort((a, b) => b.totals.admitted - a.totals.admitted);
  const shown = ranked.length > MAX_LINES ? ranked.slice(0, MAX_LINES - 1) : ranked;
  const rest = ranked.slice(shown.length);
  const perHour = (list: CheckpointHours[], pick: (c: CheckpointHours) => (number | null)[]): (number | null)[] =>
    HOURS.map((_, h) => (h < p.hoursBegun ? list.reduce((a, c) => a + (pick(c)[h] ?? 0), 0) : null));
  const series: uPlot.Series[] = [
    { label: text('时', 'Hour'), value: (_u, v) => (v === null ? '–' : hh(v)) },
    bars(U, text('拒绝', 'Refused'), REFUSED, -1, 'r'),
    bars(U, text('待核', 'Referred'), REFERRED, 1, 'r'),
    ...shown.map((c, i) => line(cpName(c, manySites), PALETTE[i % PALETTE.length]!, { scale: 'n' })),
  ];
  const data: (number | null)[][] = [perHour(cps, (c) => c.refused), perHour(cps, (c) => c.referred), ...shown.map((c) => c.admitted)];
  if (rest.length > 0) {
    series.push(line(text(`其他 ${rest.length} 个检查站`, `${rest.length} other checkpoints`), '#9aa3ad', { scale: 'n', dash: [6, 4] }));
    data.push(perHour(rest, (c) => c.admitted));
  }
  draw(U, 'passages', host, {
    series,
    scales: { x: { time: false, range: [-0.5, 23.5] }, n: { range: countRange }, r: { range: countRange } },
    axes: [
      categoryAxis(text('时（北京时间）', 'Hour (China time)'), HOURS, [1, 2, 3, 6]),
      countAxis(text('放行人次', 'Admitted'), { scale: 'n' }),
      countAxis(text('拒绝 / 待核', 'Refused / referred'), { scale: 'r', side: 1, grid: { show: false }, stroke: REFUSED }),
    ],
  }, [HOURS.map((_, h) => h), ...data] as uPlot.AlignedData);
}

function renderTotals(section: HTMLElement, cps: CheckpointHours[]): void {
  const manySites = new Set(cps.map((c) => c.site)).size > 1;
  const head = el('tr', {}, ...[['检查站', 'Checkpoint'], ['放行', 'Admitted'], ['拒绝', 'Refused'], ['待核', 'Referred']].map(([zh, en]) => el('th', {}, bi(zh!, en!))));
  const rows = cps.map((c) =>
    el('tr', { 'data-checkpoint': c.checkpoint, 'data-site': c.site },
      el('td', {}, el('b', {}, cpName(c, manySites))),
      el('td', { class: 'num' }, String(c.totals.admitted)),
      el('td', { class: `num${c.totals.refused > 0 ? ' refused' : ''}` }, String(c.totals.refused)),
      el('td', { class: 'num' }, String(c.totals.referred))));
  const details = section.querySelector<HTMLDetailsElement>('details.totals')!;
  // Open for a site-sized list; the officer's own open/close is kept after that.
  if (details.dataset['touched'] !== '1') details.open = cps.length <= 12;
  details.replaceChildren(el('summary', {}, bi(`各检查站合计（${cps.length}）`, `Totals per checkpoint (${cps.length})`)), el('table', { class: 'grid', id: 'passage-totals' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

function drawRefusals(U: UPlot, section: HTMLElement, r: Refusals): void {
  const host = section.querySelector<HTMLElement>('.plot')!;
  const total = sum(r.refused);
  section.dataset['total'] = String(total);
  section.querySelector('.sub')!.replaceChildren(bi(`近 ${r.days.length} 天（北京时间）· 拒绝 ${total} 人次`, `last ${r.days.length} days (China time) · ${total} refused`));
  if (total === 0) {
    empty(host, bi(`近 ${r.days.length} 天没有拒绝通行。`, `No refusals in the last ${r.days.length} days.`));
    return;
  }
  const shown = r.reasons.length > MAX_LINES ? r.reasons.slice(0, MAX_LINES - 1) : r.reasons;
  const rest = r.reasons.slice(shown.length);
  const series: uPlot.Series[] = [
    { label: text('日期', 'Day'), value: (_u, v) => (v === null ? '–' : r.days[v] ?? '') },
    line(text('拒绝人次', 'Refused passages'), '#1b1f24', { dash: [6, 4], width: 1.5 }),
    ...shown.map((s, i) => line(text(s.zh, s.en), PALETTE[i % PALETTE.length]!)),
  ];
  const data: number[][] = [r.refused, ...shown.map((s) => s.counts)];
  if (rest.length > 0) {
    series.push(line(text(`其他 ${rest.length} 种原因`, `${rest.length} other reasons`), '#9aa3ad'));
    data.push(r.days.map((_, i) => rest.reduce((a, s) => a + (s.counts[i] ?? 0), 0)));
  }
  draw(U, 'refusals', host, {
    series,
    scales: { x: { time: false, range: [-0.5, r.days.length - 0.5] }, y: { range: countRange } },
    axes: [categoryAxis(text('日期', 'Day'), r.days.map((d) => d.slice(5)), [1, 2, 7, 14]), countAxis(text('次数', 'Count'))],
  }, [r.days.map((_, i) => i), ...data]);
}

function drawFever(U: UPlot, section: HTMLElement, f: Fever): void {
  const host = section.querySelector<HTMLElement>('.plot')!;
  const total = sum(f.total);
  section.dataset['total'] = String(total);
  section.querySelector('.sub')!.replaceChildren(bi(`近 ${f.days.length} 天（北京时间）· 共 ${total} 次`, `last ${f.days.length} days (China time) · ${total} in all`));
  if (total === 0) {
    empty(host, bi(`近 ${f.days.length} 天没有发热告警。`, `No fever alerts in the last ${f.days.length} days.`));
    return;
  }
  draw(U, 'fever', host, {
    series: [{ label: text('日期', 'Day'), value: (_u, v) => (v === null ? '–' : f.days[v] ?? '') }, bars(U, text('发热告警', 'Fever alerts'), REFUSED, 0, 'y')],
    scales: { x: { time: false, range: [-0.5, f.days.length - 0.5] }, y: { range: countRange } },
    axes: [categoryAxis(text('日期', 'Day'), f.days.map((d) => d.slice(5)), [1, 2, 7, 14, 30]), countAxis(text('告警次数', 'Alerts'))],
  }, [f.days.map((_, i) => i), f.total]);
}

function select(id: string, value: string, options: [string, string][], onChange: (v: string) => void): HTMLSelectElement {
  const s = el('select', { id }, ...options.map(([v, label]) => el('option', { value: v }, label))) as HTMLSelectElement;
  s.value = value;
  s.addEventListener('change', () => {
    onChange(s.value);
    void refresh();
  });
  return s;
}

function chartSection(id: string, zh: string, en: string, extra: HTMLElement | null = null): HTMLElement {
  return el('section', { class: 'chart', id }, el('h3', {}, bi(zh, en)), el('p', { class: 'sub hint' }), el('div', { class: 'plot' }), extra);
}

/** The page's frame, built once per visit: the controls and three chart sections. */
function frame(content: HTMLElement): HTMLElement {
  for (const u of plots.values()) u.destroy();
  plots.clear();
  observer?.disconnect();
  observer = new ResizeObserver((entries) => {
    for (const e of entries) {
      const host = e.target as HTMLElement;
      const u = plots.get(host);
      if (u !== undefined && host.clientWidth > 0 && Math.abs(u.width - host.clientWidth) > 1) u.setSize({ width: Math.max(300, host.clientWidth), height: CHART_HEIGHT });
    }
  });
  const date = el('input', { type: 'date', id: 'c-date' }) as HTMLInputElement;
  date.addEventListener('change', () => {
    state.date = date.value;
    void refresh();
  });
  const totals = el('details', { class: 'totals' });
  totals.addEventListener('toggle', () => (totals.dataset['touched'] = '1'));
  const r = el('div', { class: 'charts-page' },
    el('div', { class: 'filters' },
      el('label', {}, bi('场区', 'Site'), ' ', select('c-site', state.site, [['', '全部 all']], (v) => (state.site = v))),
      el('label', {}, bi('日期', 'Date'), ' ', date),
      el('label', {}, bi('拒绝原因', 'Refusals'), ' ', select('c-refusal-days', state.refusalDays, [['7', '7 天 days'], ['14', '14 天 days'], ['30', '30 天 days'], ['90', '90 天 days']], (v) => (state.refusalDays = v))),
      el('label', {}, bi('发热告警', 'Fever alerts'), ' ', select('c-fever-days', state.feverDays, [['14', '14 天 days'], ['30', '30 天 days'], ['90', '90 天 days']], (v) => (state.feverDays = v))),
      el('span', { class: 'hint', id: 'c-updated' })),
    el('div', { class: 'charts' },
      chartSection('chart-passages', '各检查站每小时通行', 'Passages per checkpoint per hour', totals),
      chartSection('chart-refusals', '每日拒绝原因', 'Refusals by reason per day'),
      chartSection('chart-fever', '每日发热告警', 'Fever alerts per day')));
  content.replaceChildren(r);
  return r;
}

function updateSites(r: HTMLElement, seen: Iterable<string>): void {
  for (const s of seen) sites.add(s);
  const sel = r.querySelector<HTMLSelectElement>('#c-site')!;
  const have = new Set([...sel.options].map((o) => o.value));
  for (const s of [...sites].sort()) if (!have.has(s)) sel.append(el('option', { value: s }, s));
  sel.value = state.site;
}

async function renderCharts(content: HTMLElement): Promise<void> {
  lastLoad = Date.now();
  const query = (o: Record<string, string>): string => new URLSearchParams(Object.entries({ site: state.site, ...o }).filter(([, v]) => v !== '')).toString();
  const [U, passages, refusals, fever] = await Promise.all([
    loadUplot(),
    api<Passages>(`/api/charts/passages?${query({ date: state.date })}`),
    api<Refusals>(`/api/charts/refusals?${query({ days: state.refusalDays })}`),
    api<Fever>(`/api/charts/fever?${query({ days: state.feverDays })}`),
  ]);
  if (root === undefined || !root.isConnected || root.parentElement !== content) root = frame(content);
  const r = root;
  updateSites(r, [...passages.checkpoints.map((c) => c.site), ...fever.sites.map((s) => s.site)]);
  const date = r.querySelector<HTMLInputElement>('#c-date')!;
  date.max = new Date(Date.parse(passages.at) + 8 * 3_600_000).toISOString().slice(0, 10);
  date.value = passages.date;
  r.querySelector('#c-updated')!.replaceChildren(bi(`更新于 ${time(passages.at)}`, 'updated'));
  drawPassages(U, r.querySelector<HTMLElement>('#chart-passages')!, passages);
  drawRefusals(U, r.querySelector<HTMLElement>('#chart-refusals')!, refusals);
  drawFever(U, r.querySelector<HTMLElement>('#chart-fever')!, fever);
}

export const chartsPage: Page = {
  title: '图表 · Charts',
  render: renderCharts,
  refreshOn(changed) {
    if (!changed.includes('events') && !changed.includes('alerts')) return false;
    const wait = lastLoad + LIVE_GAP_MS - Date.now();
    if (wait <= 0) return true;
    // Too soon after the last load: one deferred re-render picks up everything meanwhile.
    liveTimer ??= setTimeout(() => {
      liveTimer = undefined;
      if (root?.isConnected === true) void refresh(true);
    }, wait);
    return false;
  },
};
