// The mine-wide daily screening: for a day (China time) every active worker and contractor
// of the office roster with their first screening at any checkpoint, and who is not
// screened yet, by department and team, with counts and a CSV export. Admins (the epidemic
// office) import the site's roster here; the page shows each gateway's answer to the push.
import { api, bi, csrf, el, role, showError, refresh, type Page } from './lib.js';

type Outcome = 'admit' | 'refuse' | 'refer';
interface Person {
  staffId: string;
  name: string;
  category: string;
}
interface Screened extends Person {
  at: string;
  checkpoint: string;
  lane: string;
  outcome: Outcome;
}
interface Group {
  department: string | null;
  team: string | null;
  workers: number;
  screened: Screened[];
  notScreened: Person[];
}
interface Screening {
  site: string;
  date: string;
  workers: number;
  screened: number;
  notScreened: number;
  outcomes: Record<Outcome, number>;
  groups: Group[];
}
interface RosterSummary {
  active: number;
  inactive: number;
  lastPush: null | { version: number; publishedAt: string; publishedBy: string | null; gateways: { checkpoint: string; status: string | null; errorCode: string | null; at: string | null }[] };
}
interface ScreeningResponse {
  sites: { id: string; name: string | null }[];
  screening: Screening | null;
  roster: RosterSummary | null;
  canImport: boolean;
}
interface Problem {
  line: number;
  column: string;
  message: string;
}

const OUTCOME: Record<Outcome, [string, string]> = { admit: ['通行', 'admit'], refuse: ['拒绝', 'refused'], refer: ['转人工', 'referred'] };
const CATEGORY: Record<string, [string, string]> = { employee: ['职工', 'employee'], contractor: ['外委', 'contractor'] };
const ANSWER: Record<string, [string, string]> = { applied: ['已应用', 'applied'], rejected: ['已拒绝', 'rejected'], ignored: ['已忽略', 'ignored'] };

/** The day is a China-time day: its times are shown in China time, wherever the browser is. */
const time = (iso: string | null): string => (iso === null ? '—' : new Date(iso).toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }));

/** '' = today (the server's China-time day) and the office's first site. */
const state = { date: '', site: '' };
/** The outcome of the last import, shown until the next one. */
let importNote: { ok: true; text: string } | { ok: false; text: string; problems: Problem[] } | null = null;
let importForm: HTMLElement | null = null;

function query(): string {
  const p = new URLSearchParams();
  if (state.site) p.set('site', state.site);
  if (state.date) p.set('date', state.date);
  const s = p.toString();
  return s ? `?${s}` : '';
}

async function sendRoster(file: File, site: string): Promise<void> {
  const res = await fetch(`/api/roster?site=${encodeURIComponent(site)}`, { method: 'POST', headers: { 'content-type': 'text/csv', 'x-csrf-token': csrf }, body: file });
  if (res.status === 401) {
    location.assign('/sign-in');
    return;
  }
  const body = (await res.json().catch(() => ({}))) as { rows?: number; active?: number; inactive?: number; withdrawn?: number; error?: { code: string; message: string; problems?: Problem[] } };
  if (res.ok) {
    importNote = { ok: true, text: `已导入 ${body.rows} 人（在册 ${body.active}，停用 ${body.inactive}，因不在文件中而停用 ${body.withdrawn}）并已签名推送至各检查站。 Imported ${body.rows} people (${body.active} active, ${body.inactive} inactive, ${body.withdrawn} withdrawn as absent from the file), signed and pushed to the checkpoints.` };
  } else {
    importNote = { ok: false, text: `未导入 Not imported — ${body.error?.code ?? res.status}: ${body.error?.message ?? ''}`, problems: body.error?.problems ?? [] };
  }
}

/** Made once and kept across re-renders, so a live refresh never drops the chosen file. */
function rosterForm(): HTMLElement {
  if (importForm !== null) return importForm;
  const file = el('input', { type: 'file', id: 'roster-file', accept: '.csv,text/csv' }) as HTMLInputElement;
  const button = el('button', { type: 'submit', id: 'roster-import', class: 'primary' }, bi('导入并推送', 'Import and push')) as HTMLButtonElement;
  const form = el('form', { class: 'roster-form', id: 'roster-form' },
    el('label', {}, bi('花名册 CSV', 'Roster CSV'), ' ', file), button,
    el('p', { class: 'hint' }, bi('整个矿区的完整名单：文件中没有的人员将被停用。列与检查站导入相同，另可加 department、team。', 'The whole roster of the site: people missing from the file become inactive. Columns as for a checkpoint, plus optional department and team.')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const chosen = file.files?.[0];
    const site = form.dataset['site'] ?? '';
    if (chosen === undefined || site === '') return;
    button.disabled = true;
    void sendRoster(chosen, site)
      .then(() => {
        file.value = '';
        return refresh();
      })
      .catch(showError)
      .finally(() => {
        button.disabled = false;
      });
  });
  importForm = form;
  return form;
}

function controls(r: ScreeningResponse): HTMLElement {
  const date = el('input', { type: 'date', id: 'screening-date', value: r.screening?.date ?? state.date }) as HTMLInputElement;
  date.addEventListener('change', () => {
    state.date = date.value;
    void refresh();
  });
  const today = el('button', { type: 'button', id: 'screening-today' }, bi('今天', 'Today'));
  today.addEventListener('click', () => {
    state.date = '';
    void refresh();
  });
  const bar = el('div', { class: 'filters' }, el('label', {}, bi('日期', 'Date'), ' ', date), today);
  if (r.sites.length > 1) {
    const site = el('select', { id: 'screening-site' }, ...r.sites.map((s) => el('option', { value: s.id }, s.name === null ? s.id : `${s.name} (${s.id})`))) as HTMLSelectElement;
    site.value = r.screening?.site ?? '';
    site.addEventListener('change', () => {
      state.site = site.value;
      void refresh();
    });
    bar.append(el('label', {}, bi('矿区', 'Site'), ' ', site));
  }
  if (r.screening !== null && (r.roster?.active ?? 0) > 0) {
    const p = new URLSearchParams({ site: r.screening.site, date: r.screening.date });
    bar.append(el('a', { href: `/api/screening.csv?${p}`, id: 'screening-export', class: 'button', download: `screening-${r.screening.site}-${r.screening.date}.csv` }, bi('导出 CSV', 'Export CSV')));
  }
  return bar;
}

function totals(s: Screening): HTMLElement {
  const box = (id: string, n: number, zh: string, en: string, cls = ''): HTMLElement => el('div', { class: `total ${cls}`, id }, el('b', {}, String(n)), el('div', {}, bi(zh, en)));
  // How the first screenings ended: a refused or referred worker was screened too.
  const outcomes = el('div', { class: 'total outcomes', id: 'total-outcomes' },
    ...(['admit', 'refuse', 'refer'] as const).map((o) => el('div', { class: `outcome-count ${o}` }, el('b', {}, String(s.outcomes[o])), ' ', bi(OUTCOME[o][0], OUTCOME[o][1]))),
    el('div', { class: 'for' }, bi('首次筛查结果', 'first screenings')));
  return el('div', { class: 'totals', id: 'screening-totals' },
    box('total-workers', s.workers, '应筛查', 'workers'),
    box('total-screened', s.screened, '已筛查', 'screened', 'ok'),
    box('total-not-screened', s.notScreened, '未筛查', 'not screened', s.notScreened > 0 ? 'missing' : ''),
    outcomes);
}

/** hh:mm:ss in China time, for an answer of today's push. */
const clock = (iso: string | null): string => (iso === null ? '—' : new Date(iso).toLocaleTimeString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }));

function category(c: string): string {
  const t = CATEGORY[c];
  return t === undefined ? c : `${t[0]} ${t[1]}`;
}

function group(g: Group): HTMLElement {
  const title = `${g.department ?? '未分配部门 no department'}${g.team === null ? '' : ` · ${g.team}`}`;
  const rows = [
    ...g.screened.map((p) => {
      const [zh, en] = OUTCOME[p.outcome];
      return el('tr', { class: 'screened', 'data-staff-id': p.staffId },
        el('td', {}, el('b', {}, p.name), el('div', { class: 'for mono' }, p.staffId)),
        el('td', {}, category(p.category)),
        el('td', {}, el('span', { class: 'state online' }, bi('已筛查', 'screened'))),
        el('td', {}, time(p.at)),
        el('td', {}, el('b', {}, p.checkpoint), ` · ${p.lane}`),
        el('td', {}, el('span', { class: `outcome ${p.outcome}` }, bi(zh, en))));
    }),
    ...g.notScreened.map((p) =>
      el('tr', { class: 'not-screened', 'data-staff-id': p.staffId },
        el('td', {}, el('b', {}, p.name), el('div', { class: 'for mono' }, p.staffId)),
        el('td', {}, category(p.category)),
        el('td', {}, el('span', { class: 'state offline' }, bi('未筛查', 'not screened'))),
        el('td', {}, '—'), el('td', {}, '—'), el('td', {}, '—'))),
  ];
  const head = el('tr', {}, ...[['姓名', 'Name'], ['类别', 'Category'], ['状态', 'Status'], ['首次筛查', 'First screening'], ['检查站', 'Checkpoint'], ['结果', 'Outcome']].map(([zh, en]) => el('th', {}, bi(zh!, en!))));
  return el('section', { class: 'screening-group', 'data-department': g.department ?? '', 'data-team': g.team ?? '' },
    el('h3', {}, title, ' ', el('span', { class: 'group-count' }, `${g.screened.length} / ${g.workers}`), ' ', g.notScreened.length > 0 ? el('span', { class: 'tag' }, bi(`未筛查 ${g.notScreened.length}`, 'not screened')) : null),
    el('table', { class: 'grid' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

function rosterPanel(r: ScreeningResponse): HTMLElement {
  const panel = el('section', { class: 'roster-panel', id: 'roster-panel' }, el('h3', {}, bi('花名册', 'Roster')));
  const sum = r.roster;
  if (sum !== null) {
    panel.append(el('p', { id: 'roster-counts' }, bi(`在册 ${sum.active} 人，停用 ${sum.inactive} 人`, `${sum.active} active, ${sum.inactive} inactive`)));
    if (sum.lastPush !== null) {
      const lp = sum.lastPush;
      const rows = lp.gateways.map((g) => {
        const [zh, en] = g.status === null ? ['等待回复', 'waiting'] : (ANSWER[g.status] ?? [g.status, g.status]);
        return el('tr', { 'data-checkpoint': g.checkpoint, class: `answer ${g.status ?? 'waiting'}` },
          el('td', {}, el('b', {}, g.checkpoint)),
          el('td', {}, bi(zh, en), g.errorCode === null ? null : el('div', { class: 'for mono' }, g.errorCode)),
          el('td', { title: time(g.at) }, clock(g.at)));
      });
      panel.append(
        el('p', { class: 'hint' }, bi(`最近推送 版本 ${lp.version}，${time(lp.publishedAt)}${lp.publishedBy === null ? '' : `，${lp.publishedBy}`}`, 'latest push')),
        rows.length === 0 ? el('p', { class: 'placeholder' }, bi('尚无检查站。', 'No checkpoint known yet.')) : el('table', { class: 'grid', id: 'roster-push' }, el('thead', {}, el('tr', {}, el('th', {}, bi('检查站', 'Checkpoint')), el('th', {}, bi('回复', 'Answer')), el('th', {}, bi('时间', 'Time')))), el('tbody', {}, ...rows)),
      );
    }
  }
  if (role === 'admin') {
    const form = rosterForm();
    const site = r.screening?.site ?? r.sites[0]?.id ?? '';
    form.dataset['site'] = site;
    if (r.canImport) panel.append(form);
    else panel.append(el('p', { class: 'hint', id: 'roster-cannot' }, bi('此矿区无法导入：需要该矿区的假名密钥和更新签名密钥。', 'Import needs the site\'s pseudonym secret and the update signing key in the office configuration.')));
  }
  return panel;
}

/** What the last import said; a refused file's problems get the width of the page. */
function importResult(): HTMLElement | null {
  if (importNote === null || role !== 'admin') return null;
  const note = el('div', { id: 'roster-result', class: importNote.ok ? 'import-ok' : 'import-error', role: 'status' }, el('p', {}, importNote.text));
  if (!importNote.ok && importNote.problems.length > 0) {
    note.append(el('table', { class: 'grid', id: 'roster-problems' },
      el('thead', {}, el('tr', {}, el('th', {}, bi('行', 'Line')), el('th', {}, bi('列', 'Column')), el('th', {}, bi('问题', 'Problem')))),
      el('tbody', {}, ...importNote.problems.map((p) => el('tr', {}, el('td', { class: 'num' }, String(p.line)), el('td', { class: 'mono' }, p.column), el('td', {}, p.message))))));
  }
  return note;
}

async function renderScreening(content: HTMLElement): Promise<void> {
  const r = await api<ScreeningResponse>(`/api/screening${query()}`);
  const s = r.screening;
  const main = el('div', { class: 'screening-main' }, importResult());
  if (s === null || (r.roster?.active === 0 && r.roster.inactive === 0)) {
    main.append(el('p', { class: 'placeholder', id: 'no-roster' }, bi('尚无花名册：请先导入。', 'No roster yet: import one first.')));
  } else {
    main.append(totals(s));
    if (s.groups.length === 0) main.append(el('p', { class: 'placeholder', id: 'no-workers' }, bi('花名册中没有在册的职工或外委人员。', 'No active workers or contractors in the roster.')));
    main.append(...s.groups.map(group));
  }
  content.replaceChildren(controls(r), el('div', { class: 'screening' }, main, rosterPanel(r)));
}

export const screeningPage: Page = {
  title: '每日筛查 · Daily screening',
  render: renderScreening,
  // New passages, and gateways answering the roster push.
  refreshOn: (changed) => changed.includes('events') || changed.includes('updates'),
};
