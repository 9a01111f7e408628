// The alerts inbox: newest first, folded repeats, severity, escalation, and acknowledgement
// (one, a folded group, or all shown) for duty leaders and admins.
import { api, bi, canAck, csrf, el, refresh, showError, time, type Page } from './lib.js';

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

export const alertsPage: Page = {
  title: '告警 · Alerts',
  render: renderAlerts,
  refreshOn: (changed) => changed.includes('alerts'),
};
