// The contact-tracing page: a person (site + staff id), a window, ±N minutes and a reason
// (the buttons stay disabled without one); the answer lists each passage with the others
// who passed the same lane within ±N. Every query and export is recorded on the server
// (the audit page lists them). The form is built once and kept, so the shell's automatic
// re-renders neither lose what is typed nor run the query again.
import { api, bi, csrf, el, role, time, type Page } from './lib.js';

interface Contact {
  subject: string;
  staffId: string | null;
  name: string | null;
  department: string | null;
  at: string;
  offsetS: number;
}
interface Passage {
  at: string;
  checkpoint: string;
  lane: string;
  kind: string;
  outcome: string;
  contacts: Contact[];
}
interface TraceAnswer {
  id: number;
  person: { site: string; staffId: string; inRoster: boolean; name: string | null; department: string | null; team: string | null; active: boolean | null };
  window: { from: string; to: string; minutes: number };
  passages: Passage[];
  counts: { passages: number; contacts: number; people: number };
  truncated: boolean;
}

const canTrace = role === 'duty-leader' || role === 'admin';
/** As the server's rule (central/console/tracing.ts meaningfulReason): at least 4 letters or digits. */
const reasonOk = (s: string): boolean => (s.trim().match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= 4;
const DAY = 86_400_000;

let root: HTMLElement | undefined;

/** "2026-12-04T16:00" in the browser's zone, as a datetime-local input holds it. */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function offset(s: number): string {
  const m = Math.round(s / 6) / 10;
  return `${m > 0 ? '+' : m < 0 ? '−' : '±'}${Math.abs(m)} min`;
}

function who(c: { name: string | null; staffId: string | null; subject: string }): HTMLElement {
  return c.name === null
    ? el('span', { class: 'pseudonym mono', title: bi('不在办公室花名册中', 'not in the office roster').textContent ?? '' }, c.subject)
    : el('span', {}, el('b', {}, c.name), c.staffId === null ? null : el('span', { class: 'for' }, ` ${c.staffId}`));
}

function renderAnswer(a: TraceAnswer): HTMLElement {
  const p = a.person;
  const person = p.inRoster
    ? el('p', { id: 'trace-person', class: 'in-roster' }, el('b', {}, p.name ?? ''), ` ${p.staffId} · ${p.department ?? '—'}${p.team ? ` · ${p.team}` : ''} · `, bi('在办公室花名册中', 'in the office roster'), p.active === false ? el('span', { class: 'tag' }, bi('已停用', 'inactive')) : null)
    : el('p', { id: 'trace-person', class: 'not-in-roster' }, el('b', {}, p.staffId), ' · ', el('span', { class: 'tag' }, bi('不在办公室花名册中', 'not in the office roster')), ' ', bi('按站点密钥计算的化名查询', 'traced by the pseudonym the site key gives'));
  const summary = el('p', { id: 'trace-summary' },
    bi(`${a.counts.passages} 次通行，${a.counts.contacts} 条接触（${a.counts.people} 人）`, `${a.counts.passages} passages, ${a.counts.contacts} contacts (${a.counts.people} people)`),
    ' · ', el('span', { class: 'for' }, bi(`已记录为第 ${a.id} 号查询`, `recorded as query #${a.id}`)));
  const warn = a.truncated ? el('p', { class: 'load-error', id: 'trace-truncated' }, bi('结果过多，仅显示部分：请缩小时间范围或 ±N。', 'Too many rows: only part is shown. Narrow the window or ±N.')) : null;
  const passages = a.passages.map((ps, i) => {
    const head = el('h3', {}, `${i + 1}. ${time(ps.at)} · `, el('b', {}, ps.checkpoint), ` · ${ps.lane} · ${ps.outcome}`,
      el('span', { class: 'for' }, ' ', bi(`${ps.contacts.length} 人`, `${ps.contacts.length} people`)));
    const body = ps.contacts.length === 0
      ? el('p', { class: 'placeholder' }, bi(`±${a.window.minutes} 分钟内同通道无他人通行。`, `Nobody else passed this lane within ±${a.window.minutes} min.`))
      : el('table', { class: 'grid contacts' },
        el('thead', {}, el('tr', {}, ...[['人员', 'Person'], ['部门', 'Department'], ['通行时间', 'Passed at'], ['相差', 'Offset']].map(([zh, en]) => el('th', {}, bi(zh!, en!))))),
        el('tbody', {}, ...ps.contacts.map((c) => el('tr', { class: c.name === null ? 'contact unknown' : 'contact', 'data-staff-id': c.staffId ?? '' },
          el('td', {}, who(c)), el('td', {}, c.department ?? '—'), el('td', {}, time(c.at)), el('td', { class: 'num' }, offset(c.offsetS))))));
    return el('section', { class: 'passage', 'data-checkpoint': ps.checkpoint, 'data-lane': ps.lane }, head, body);
  });
  return el('div', { id: 'trace-result' }, person, summary, warn,
    ...(passages.length > 0 ? passages : [el('p', { class: 'placeholder', id: 'no-passages' }, bi('此时间范围内无通行记录。', 'No passages in this window.'))]));
}

async function buildRoot(): Promise<HTMLElement> {
  const { sites } = await api<{ sites: { id: string; name: string | null }[] }>('/api/tracing/sites');
  const site = el('select', { id: 't-site' }, ...sites.map((s) => el('option', { value: s.id }, s.name ? `${s.name} (${s.id})` : s.id))) as HTMLSelectElement;
  const staffId = el('input', { type: 'text', id: 't-staff', placeholder: '例 E1001', size: '12', autocomplete: 'off' }) as HTMLInputElement;
  const now = Date.now();
  const from = el('input', { type: 'datetime-local', id: 't-from' }) as HTMLInputElement;
  const to = el('input', { type: 'datetime-local', id: 't-to' }) as HTMLInputElement;
  from.value = localInput(now - 14 * DAY);
  to.value = localInput(now);
  const minutes = el('input', { type: 'number', id: 't-minutes', min: '1', max: '120', step: '1', value: '15' }) as HTMLInputElement;
  const reason = el('textarea', { id: 't-reason', rows: '2', maxlength: '500', placeholder: '例如：发热病例 E1001 的密接排查 · e.g. close contacts of fever case E1001', required: '' }) as HTMLTextAreaElement;
  const query = el('button', { type: 'submit', id: 't-query', class: 'primary' }, bi('查询', 'Trace')) as HTMLButtonElement;
  const exportBtn = el('button', { type: 'button', id: 't-export' }, bi('导出 CSV', 'Export CSV')) as HTMLButtonElement;
  const error = el('p', { class: 'load-error', id: 't-error', role: 'alert' });
  error.hidden = true;
  const note = el('p', { class: 'for', id: 't-exported' });
  const result = el('div', { id: 't-result' });

  const ready = (): void => {
    const ok = canTrace && sites.length > 0 && staffId.value.trim() !== '' && reasonOk(reason.value);
    query.disabled = !ok;
    exportBtn.disabled = !ok;
  };
  for (const i of [staffId, reason]) i.addEventListener('input', ready);
  ready();

  const body = (): Record<string, unknown> => ({
    site: site.value,
    staffId: staffId.value.trim(),
    from: new Date(from.value).getTime(),
    to: new Date(to.value).getTime(),
    minutes: Number(minutes.value),
    reason: reason.value,
  });
  const fail = (err: unknown): void => {
    error.textContent = `${bi('失败', 'Failed').textContent}: ${(err as Error).message}`;
    error.hidden = false;
  };
  const busy = async (fn: () => Promise<void>): Promise<void> => {
    error.hidden = true;
    query.disabled = exportBtn.disabled = true;
    try {
      await fn();
    } catch (err) {
      fail(err);
    } finally {
      ready();
    }
  };
  const form = el('form', { class: 'trace-form', id: 't-form' },
    el('label', {}, el('span', {}, bi('站点', 'Site')), site),
    el('label', {}, el('span', {}, bi('工号', 'Staff id')), staffId),
    el('label', {}, el('span', {}, bi('自', 'From')), from),
    el('label', {}, el('span', {}, bi('至', 'To')), to),
    el('label', {}, el('span', {}, bi('± 分钟', '± minutes')), minutes),
    el('label', { class: 'reason' }, el('span', {}, bi('原因（必填）', 'Reason (required)')), reason),
    el('div', { class: 'bar' }, query, exportBtn));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void busy(async () => {
      const a = await api<TraceAnswer>('/api/tracing', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body()) });
      note.textContent = '';
      result.replaceChildren(renderAnswer(a));
    });
  });
  exportBtn.addEventListener('click', () => void busy(async () => {
    const res = await fetch('/api/tracing/export', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body()) });
    if (res.status === 401) location.assign('/sign-in');
    if (!res.ok) {
      const e = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      throw new Error(`${e.error?.code ?? res.status}: ${e.error?.message ?? ''}`);
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'trace.csv';
    const url = URL.createObjectURL(await res.blob());
    const a = el('a', { href: url, download: name }) as HTMLAnchorElement;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    note.replaceChildren(bi(`已导出 ${name}，导出已记录。`, `Exported ${name}; the export is recorded.`));
  }));

  const notes = [
    el('p', { class: 'hint', id: 't-recorded' }, bi('每次查询和导出都会记录（查询人、时间、原因、查询内容、行数），所有人可在“审计”页查看，任何人都不能删除。',
      'Every query and export is recorded (who, when, why, what was asked, how many rows), listed on the Audit page for everyone, and cannot be erased.')),
  ];
  if (!canTrace) notes.unshift(el('p', { class: 'load-error', id: 't-role' }, bi('流调查询需要值班负责人或管理员角色。', 'Contact tracing needs the duty-leader or admin role.')));
  if (sites.length === 0) notes.unshift(el('p', { class: 'load-error' }, bi('办公室没有任何站点的化名密钥（配置 sites）。', 'The office holds no site pseudonym key (config sites).')));
  if (!canTrace) for (const i of [site, staffId, from, to, minutes, reason]) i.disabled = true;
  return el('div', { class: 'tracing' }, ...notes, form, error, note, result);
}

export const tracingPage: Page = {
  title: '流调 · Contact tracing',
  async render(content) {
    root ??= await buildRoot();
    if (root.parentElement !== content) content.replaceChildren(root);
  },
  // Nothing live: a query runs (and is recorded) only when the officer asks.
  refreshOn: () => false,
};
