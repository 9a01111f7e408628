// The audit page: every contact-tracing query and export (who, when, from where, why, what
// was asked, how many rows), newest first, for every signed-in role, with nothing to edit
// or erase; and for admins the console's officer audit (sign-ins, acknowledgements, …).
import { api, bi, el, refresh, role, time, type Page } from './lib.js';

interface TraceLogEntry {
  id: number;
  at: string;
  officerId: string;
  officerName: string | null;
  role: string;
  client: string;
  reason: string;
  export: boolean;
  site: string;
  staffId: string;
  from: string;
  to: string;
  minutes: number;
  passages: number;
  contacts: number;
  people: number;
  truncated: boolean;
}
interface OfficerAuditRow {
  at: string;
  officerId: string;
  action: string;
  client: string;
  detail: Record<string, unknown>;
}

const PAGE_SIZE = 50;
const ROLES: Record<string, string> = { viewer: '查看员 viewer', 'duty-leader': '值班负责人 duty leader', admin: '管理员 admin' };
let pages: number[] = []; // `before` of each page after the first

function traceTable(entries: TraceLogEntry[]): HTMLElement {
  const head = el('tr', {}, ...[['编号', 'No.'], ['时间', 'Time'], ['查询人', 'Officer'], ['原因', 'Reason'], ['查询内容', 'What was asked'], ['行数', 'Rows']].map(([zh, en]) => el('th', {}, bi(zh!, en!))));
  const rows = entries.map((e) => el('tr', { class: e.export ? 'trace export' : 'trace', 'data-id': String(e.id) },
    el('td', { class: 'num' }, `#${e.id}`),
    el('td', {}, time(e.at)),
    el('td', {}, el('b', {}, e.officerName ?? e.officerId), el('div', { class: 'for' }, `${e.officerId} · ${ROLES[e.role] ?? e.role} · ${e.client}`)),
    el('td', { class: 'reason' }, e.reason),
    el('td', {}, e.export ? el('span', { class: 'tag export-tag' }, bi('导出', 'export')) : null, ' ', el('b', {}, `${e.site} / ${e.staffId}`),
      el('div', { class: 'for' }, `${time(e.from)} – ${time(e.to)} · ±${e.minutes} min`)),
    el('td', { class: 'rows' }, `${e.passages} 次通行 · ${e.contacts} 条接触 · ${e.people} 人`, e.truncated ? el('span', { class: 'tag' }, bi('已截断', 'cut')) : null,
      el('div', { class: 'for' }, `${e.passages} passages · ${e.contacts} contacts · ${e.people} people`))));
  return el('table', { class: 'grid', id: 'trace-log' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

function officerTable(entries: OfficerAuditRow[]): HTMLElement {
  const head = el('tr', {}, ...[['时间', 'Time'], ['账号', 'Officer'], ['操作', 'Action'], ['客户端', 'Client'], ['详情', 'Detail']].map(([zh, en]) => el('th', {}, bi(zh!, en!))));
  const rows = entries.map((e) => el('tr', { 'data-action': e.action },
    el('td', {}, time(e.at)), el('td', {}, e.officerId), el('td', {}, e.action), el('td', {}, e.client),
    el('td', { class: 'mono detail' }, Object.keys(e.detail).length === 0 ? '' : JSON.stringify(e.detail))));
  return el('table', { class: 'grid', id: 'officer-audit' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

async function renderAudit(content: HTMLElement): Promise<void> {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  const before = pages[pages.length - 1];
  if (before !== undefined) params.set('before', String(before));
  const [{ entries }, officers] = await Promise.all([
    api<{ entries: TraceLogEntry[] }>(`/api/audit/tracing?${params}`),
    role === 'admin' ? api<{ entries: OfficerAuditRow[] }>('/api/audit?limit=100') : Promise.resolve(null),
  ]);
  const bar = el('div', { class: 'bar' });
  if (pages.length > 0) {
    const newer = el('button', { type: 'button', id: 'audit-newer' }, bi('较新', 'Newer'));
    newer.addEventListener('click', () => { pages.pop(); void refresh(); });
    bar.append(newer);
  }
  const last = entries[entries.length - 1];
  if (entries.length === PAGE_SIZE && last !== undefined) {
    const older = el('button', { type: 'button', id: 'audit-older' }, bi('较早', 'Older'));
    older.addEventListener('click', () => { pages.push(last.id); void refresh(); });
    bar.append(older);
  }
  content.replaceChildren(
    el('h3', {}, bi('流调查询记录', 'Contact-tracing log')),
    el('p', { class: 'hint', id: 'audit-append-only' }, bi('每次流调查询和导出都记录在此，只能追加：任何人（包括管理员）都不能修改或删除。',
      'Every contact-tracing query and export is recorded here. Append-only: nobody, administrators included, can change or erase an entry.')),
    bar,
    entries.length === 0 ? el('p', { class: 'placeholder', id: 'no-traces' }, bi('尚无流调查询。', 'No contact-tracing query yet.')) : traceTable(entries),
    ...(officers === null ? [] : [
      el('h3', {}, bi('账号操作记录（最近 100 条，仅管理员可见）', 'Officer audit (latest 100, administrators only)')),
      officers.entries.length === 0 ? el('p', { class: 'placeholder' }, bi('无记录。', 'No entries.')) : officerTable(officers.entries),
    ]),
  );
}

export const auditPage: Page = {
  title: '审计 · Audit',
  render: renderAudit,
  refreshOn: (changed) => changed.includes('tracing'),
};
