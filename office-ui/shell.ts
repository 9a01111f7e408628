// The signed-in shell: the nav, the checkpoints and alerts pages (rendered from
// GET /api/checkpoints and GET /api/alerts), acknowledgement for duty leaders and admins
// (POST /api/alerts/ack with the session's CSRF token) and sign-out. Live: the page
// re-fetches when /api/stream says data changed, and every 30 s as a fallback.
const PAGES: Record<string, string> = {
  checkpoints: '检查站 · Checkpoints',
  alerts: '告警 · Alerts',
  screening: '每日筛查 · Screening',
  visitors: '访客与外包 · Visitors',
  tracing: '流调 · Tracing',
  charts: '图表 · Charts',
  audit: '审计 · Audit',
};
const FALLBACK_REFRESH_MS = 30_000;

const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
const role = document.body.dataset['role'] ?? 'viewer';
const canAck = role === 'duty-leader' || role === 'admin';
const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

type Attrs = Record<string, string>;
function el(tag: string, attrs: Attrs = {}, ...children: (Node | string | null)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null) e.append(c);
  return e;
}
/** Chinese first, English second and quieter. */
const bi = (zh: string, en: string): DocumentFragment => {
  const f = document.createDocumentFragment();
  f.append(`${zh} `, el('span', { class: 'en' }, en));
  return f;
};

function duration(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 1) return '<1 min';
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  if (d > 0) return `${d} d ${h} h`;
  return h > 0 ? `${h} h ${m % 60} min` : `${m} min`;
}
const time = (iso: string | null): string => (iso === null ? '—' : new Date(iso).toLocaleString('zh-CN', { hour12: false }));

let currentPage = '';
let loading = false;
let again = false;
let againAuto = true;

let background = false;

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  // An automatic re-fetch does not count as activity for the session's idle timeout.
  const res = await fetch(path, background && (init?.method ?? 'GET') === 'GET' ? { ...init, headers: { 'x-console-background': '1' } } : init);
  if (res.status === 401) {
    location.assign('/sign-in');
    throw new Error('signed out');
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${body.error?.code ?? res.status}: ${body.error?.message ?? ''}`);
  return body;
}

// ---- checkpoints ----
interface Checkpoint {
  site: string;
  checkpoint: string;
  state: 'online' | 'offline' | 'unknown';
  cause: string | null;
  forMs: number | null;
  version: string | null;
  configHash: string | null;
  lanes: { id: string; state: string | null; devices: { name: string; type: string | null; state: string | null }[] }[];
  outboxDepth: number | null;
  lastEventAt: string | null;
  updates: { kind: string; applied: number | null; published: number | null; outOfDate: boolean }[];
}
const STATE: Record<Checkpoint['state'], [string, string]> = { online: ['在线', 'online'], offline: ['离线', 'offline'], unknown: ['未知', 'unknown'] };

async function renderCheckpoints(content: HTMLElement): Promise<void> {
  const { checkpoints } = await api<{ checkpoints: Checkpoint[] }>('/api/checkpoints');
  const head = el('tr', {}, ...[['检查站', 'Checkpoint'], ['状态', 'State'], ['版本', 'Version'], ['配置', 'Config'], ['通道与设备', 'Lanes and devices'], ['待发', 'Outbox'], ['最近事件', 'Last event'], ['更新', 'Updates']].map(([zh, en]) => el('th', {}, bi(zh!, en!))));
  const rows = checkpoints.map((c) => {
    const [zh, en] = STATE[c.state];
    const state = el('td', {}, el('span', { class: `state ${c.state}` }, bi(zh, en)), c.forMs === null ? null : el('div', { class: 'for' }, duration(c.forMs)), c.cause === null || c.state !== 'offline' ? null : el('div', { class: 'for' }, c.cause));
    const lanes = el('td', { class: 'lanes' }, ...c.lanes.map((l) => el('div', {}, el('b', {}, l.id), ` ${l.state ?? ''} `, ...l.devices.flatMap((d) => [el('span', { class: `device ${d.state === 'connected' ? 'ok' : 'bad'}`, title: d.type ?? '' }, `${d.name}: ${d.state ?? '?'}`), ' ']))));
    const updates = el('td', { class: 'updates' }, ...c.updates.map((u) => el('div', { class: u.outOfDate ? 'update stale' : 'update' }, `${u.kind} ${u.applied ?? '—'} / ${u.published ?? '—'} `, u.outOfDate ? el('span', { class: 'tag' }, bi('过期', 'out of date')) : null)));
    return el('tr', { 'data-checkpoint': c.checkpoint, class: `cp ${c.state}` },
      el('td', {}, el('b', {}, c.checkpoint), el('div', { class: 'for' }, c.site)),
      state,
      el('td', {}, c.version ?? '—'),
      el('td', { class: 'mono', title: c.configHash ?? '' }, c.configHash === null ? '—' : c.configHash.replace(/^sha256:/, '').slice(0, 8)),
      lanes,
      el('td', { class: 'num' }, c.outboxDepth === null ? '—' : String(c.outboxDepth)),
      el('td', {}, time(c.lastEventAt)),
      updates);
  });
  content.replaceChildren(
    el('p', { class: 'hint' }, bi('更新列：已应用 / 最新发布', 'Updates: applied / latest published')),
    checkpoints.length === 0 ? el('p', { class: 'placeholder' }, bi('尚无检查站上报。', 'No checkpoint has reported yet.')) : el('table', { class: 'grid', id: 'checkpoints' }, el('thead', {}, head), el('tbody', {}, ...rows)),
  );
}

// ---- alerts ----
interface Alert {
  site: string;
  checkpoint: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  code: string;
  lane: string | null;
  detail: string | null;
  count: number;
  ids: string[];
  firstAt: string;
  lastAt: string;
  unacked: number;
  ackedBy: string | null;
  ackedAt: string | null;
  escalated: boolean;
}
const SEVERITY: Record<Alert['severity'], [string, string]> = { info: ['提示', 'info'], warning: ['警告', 'warning'], critical: ['严重', 'critical'] };
const filter = { unacked: true, severity: '', checkpoint: '' };
const PAGE_SIZE = 100;
let pages: number[] = []; // `before` of each page after the first

async function ack(body: unknown): Promise<void> {
  await api('/api/alerts/ack', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
  await refresh();
}

function alertFilters(): HTMLElement {
  const unacked = el('input', { type: 'checkbox', id: 'f-unacked' }) as HTMLInputElement;
  unacked.checked = filter.unacked;
  const severity = el('select', { id: 'f-severity' }, el('option', { value: '' }, '全部 all'), ...(['critical', 'warning', 'info'] as const).map((s) => el('option', { value: s }, `${SEVERITY[s][0]} ${SEVERITY[s][1]}`))) as HTMLSelectElement;
  severity.value = filter.severity;
  const checkpoint = el('input', { type: 'text', id: 'f-checkpoint', placeholder: 'gate-1', size: '12' }) as HTMLInputElement;
  checkpoint.value = filter.checkpoint;
  const apply = (): void => {
    filter.unacked = unacked.checked;
    filter.severity = severity.value;
    filter.checkpoint = checkpoint.value.trim();
    pages = [];
    void refresh();
  };
  unacked.addEventListener('change', apply);
  severity.addEventListener('change', apply);
  checkpoint.addEventListener('change', apply);
  return el('div', { class: 'filters' },
    el('label', {}, unacked, bi(' 仅未确认', 'Unacknowledged only')),
    el('label', {}, bi('级别', 'Severity'), ' ', severity),
    el('label', {}, bi('检查站', 'Checkpoint'), ' ', checkpoint));
}

async function renderAlerts(content: HTMLElement): Promise<void> {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (filter.unacked) params.set('unacked', '1');
  if (filter.severity) params.set('severity', filter.severity);
  if (filter.checkpoint) params.set('checkpoint', filter.checkpoint);
  const before = pages[pages.length - 1];
  if (before !== undefined) params.set('before', String(before));
  const { alerts, to } = await api<{ alerts: Alert[]; to: number }>(`/api/alerts?${params}`);
  const rows = alerts.map((a) => {
    const [zh, en] = SEVERITY[a.severity];
    const actions = el('td', { class: 'actions' });
    if (canAck && a.unacked > 0) {
      const b = el('button', { type: 'button', class: 'ack' }, a.ids.length > 1 ? bi(`确认 ${a.ids.length} 条`, `Acknowledge ${a.ids.length}`) : bi('确认', 'Acknowledge'));
      b.addEventListener('click', () => void ack({ ids: a.ids }).catch(showError));
      actions.append(b);
    } else if (a.ackedBy !== null) {
      actions.append(el('span', { class: 'acked' }, bi(`已确认 ${a.ackedBy}`, time(a.ackedAt))));
    }
    return el('tr', { class: `alert ${a.severity}${a.escalated ? ' escalated' : ''}${a.unacked === 0 ? ' done' : ''}`, 'data-kind': a.kind, 'data-checkpoint': a.checkpoint },
      el('td', {}, el('span', { class: `sev ${a.severity}` }, bi(zh, en)), ' ', a.escalated ? el('span', { class: 'tag escalated-tag' }, bi('已升级', 'escalated')) : null),
      el('td', {}, el('b', {}, a.checkpoint), a.lane === null ? null : ` · ${a.lane}`),
      el('td', {}, a.kind, el('div', { class: 'for mono' }, a.code)),
      el('td', {}, a.detail ?? ''),
      el('td', { class: 'num' }, a.count > 1 ? el('span', { class: 'count' }, `×${a.count}`) : '1'),
      el('td', {}, time(a.lastAt), a.firstAt === a.lastAt ? null : el('div', { class: 'for' }, `${bi('自', 'from').textContent} ${time(a.firstAt)}`)),
      actions);
  });
  const head = el('tr', {}, ...[['级别', 'Severity'], ['检查站', 'Checkpoint'], ['类型', 'Kind'], ['详情', 'Detail'], ['次数', 'Count'], ['时间', 'Time'], ['', '']].map(([zh, en]) => el('th', {}, zh ? bi(zh, en!) : '')));
  const bar = el('div', { class: 'bar' });
  if (canAck && alerts.some((a) => a.unacked > 0)) {
    const all = el('button', { type: 'button', id: 'ack-shown', class: 'primary' }, bi('确认全部显示的告警', 'Acknowledge all shown'));
    const shown: Record<string, unknown> = { to };
    if (filter.severity) shown['severities'] = [filter.severity];
    if (filter.checkpoint) shown['checkpoint'] = filter.checkpoint;
    all.addEventListener('click', () => void ack({ shown }).catch(showError));
    bar.append(all);
  }
  if (pages.length > 0) {
    const newer = el('button', { type: 'button' }, bi('较新', 'Newer'));
    newer.addEventListener('click', () => { pages.pop(); void refresh(); });
    bar.append(newer);
  }
  const last = alerts[alerts.length - 1];
  if (alerts.length === PAGE_SIZE && last !== undefined) {
    const older = el('button', { type: 'button' }, bi('较早', 'Older'));
    older.addEventListener('click', () => { pages.push(Date.parse(last.lastAt)); void refresh(); });
    bar.append(older);
  }
  content.replaceChildren(alertFilters(), bar,
    alerts.length === 0 ? el('p', { class: 'placeholder', id: 'no-alerts' }, bi('没有告警。', 'No alerts.')) : el('table', { class: 'grid', id: 'alerts' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

function showError(err: unknown): void {
  const p = $('load-error');
  p.textContent = `加载失败 Failed: ${(err as Error).message}`;
  p.hidden = false;
}

async function refresh(auto = false): Promise<void> {
  if (loading) {
    again = true;
    againAuto = againAuto && auto; // a queued click stays a click
    return;
  }
  loading = true;
  background = auto;
  try {
    const content = $('content');
    $('load-error').hidden = true;
    if (currentPage === 'checkpoints') await renderCheckpoints(content);
    else if (currentPage === 'alerts') await renderAlerts(content);
    content.dataset['loaded'] = String(Date.now());
  } catch (err) {
    showError(err);
  } finally {
    loading = false;
    if (again) {
      const next = againAuto;
      again = false;
      againAuto = true;
      void refresh(next);
    }
  }
}

function show(): void {
  const wanted = location.hash.slice(1);
  const page = wanted in PAGES ? wanted : 'checkpoints';
  $('page-title').textContent = PAGES[page] ?? '';
  for (const a of document.querySelectorAll<HTMLAnchorElement>('.nav a')) {
    if (a.dataset['page'] === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const live = page === 'checkpoints' || page === 'alerts';
  $('placeholder').hidden = live;
  if (page !== currentPage) $('content').replaceChildren();
  currentPage = page;
  if (live) void refresh();
}
window.addEventListener('hashchange', show);
show();

// Live: a notice says what changed; re-fetch if it concerns the page shown.
const stream = new EventSource('/api/stream');
stream.addEventListener('changed', (e) => {
  const { changed } = JSON.parse((e as MessageEvent<string>).data) as { changed: string[] };
  if ((currentPage === 'alerts' && changed.includes('alerts')) || (currentPage === 'checkpoints' && changed.some((k) => k === 'status' || k === 'events'))) void refresh(true);
});
setInterval(() => void refresh(true), FALLBACK_REFRESH_MS);

$('sign-out').addEventListener('click', () => {
  stream.close();
  void fetch('/api/session', { method: 'DELETE', headers: { 'x-csrf-token': csrf } }).finally(() => location.assign('/sign-in'));
});
