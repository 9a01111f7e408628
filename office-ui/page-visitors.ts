// Visitors and contractors: the office's visitor approvals and contractor crew
// registrations with, per gateway, whether it confirmed the set that carries them. An
// admin registers (two forms) and revokes; every role reads. The forms are built once and
// kept across live re-renders, so a notice never wipes what an officer is typing.
import { api, bi, csrf, el, refresh, role, showError, time, type Page } from './lib.js';

type ChipState = 'confirmed' | 'rejected' | 'waiting' | 'unsent' | 'removed';
interface GatewayState {
  checkpoint: string;
  state: ChipState;
  errorCode: string | null;
  version: number | null;
  at: string | null;
}
type Status = 'active' | 'upcoming' | 'expired' | 'revoked';
interface Entry {
  id: string;
  site: string;
  status: Status;
  validFrom: string;
  validUntil: string;
  checkpoints: string[] | null;
  createdBy: string;
  createdAt: string;
  revokedBy: string | null;
  revokedAt: string | null;
  gateways: GatewayState[];
}
interface ApprovalRow extends Entry {
  subject: string;
  name: string | null;
  approver: string;
  hostDepartment: string;
  maxUses: number | null;
}
interface CrewRow extends Entry {
  responsible: string;
  members: number;
  itinerary: { region: string; from: string; to: string }[];
}
interface Data {
  canPush: boolean;
  syncFailure: { at: string; message: string } | null;
  sites: { id: string; name: string | null }[];
  checkpoints: { site: string; checkpoint: string; state: string }[];
  approvals: ApprovalRow[];
  crews: CrewRow[];
}

const isAdmin = role === 'admin';
const STATUS: Record<Status, [string, string]> = { active: ['有效', 'active'], upcoming: ['未开始', 'upcoming'], expired: ['已过期', 'expired'], revoked: ['已撤销', 'revoked'] };
const CHIP: Record<ChipState, [string, string]> = {
  confirmed: ['已确认', 'confirmed'],
  rejected: ['已拒绝', 'rejected'],
  waiting: ['等待中', 'waiting'],
  unsent: ['未推送', 'not sent'],
  removed: ['已撤除', 'removed'],
};
const HOUR = 3_600_000;

/** A datetime-local value (the browser's zone) for epoch ms. */
const localInput = (ms: number): string => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
/** A datetime-local value as an ISO timestamp with a zone; '' stays '' (the server names the field). */
const instant = (v: string): string => (v === '' ? '' : new Date(v).toISOString());
const field = (labelZh: string, labelEn: string, input: HTMLElement): HTMLElement => el('label', { class: 'field' }, el('span', {}, bi(labelZh, labelEn)), input);
const input = (attrs: Record<string, string>): HTMLInputElement => el('input', attrs) as HTMLInputElement;

interface FormParts {
  form: HTMLFormElement;
  site: HTMLSelectElement;
  checkpoints: HTMLElement;
  error: HTMLElement;
  result: HTMLElement;
}

interface View {
  root: HTMLElement;
  notes: HTMLElement;
  approvals: HTMLElement;
  crews: HTMLElement;
  forms: FormParts[];
}
let view: View | null = null;
let data: Data | null = null;

async function post(path: string, body: unknown): Promise<{ id: string; pushed: { checkpoint: string; kind: string }[]; failed: { checkpoint: string; message: string }[] }> {
  return api(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
}

/** The site select and the checkpoint boxes of a form, from the newest data (choices kept). */
function fillPlace(f: FormParts): void {
  if (data === null) return;
  const chosen = f.site.value;
  f.site.replaceChildren(...data.sites.map((s) => el('option', { value: s.id }, s.name === null ? s.id : `${s.name} (${s.id})`)));
  if (data.sites.some((s) => s.id === chosen)) f.site.value = chosen;
  const checked = new Set([...f.checkpoints.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value));
  const here = data.checkpoints.filter((c) => c.site === f.site.value);
  f.checkpoints.replaceChildren(
    ...here.map((c) => {
      const box = input({ type: 'checkbox', value: c.checkpoint });
      box.checked = checked.has(c.checkpoint);
      return el('label', { class: `cp-choice ${c.state}` }, box, ` ${c.checkpoint}`);
    }),
    el('span', { class: 'hint' }, here.length === 0 ? bi('此站点尚无检查站上报', 'No checkpoint of this site has reported yet') : bi('不选 = 全部检查站', 'none ticked = every checkpoint')),
  );
}

function placeParts(prefix: string): Pick<FormParts, 'site' | 'checkpoints'> {
  const site = el('select', { id: `${prefix}-site`, name: 'site', required: '' }) as HTMLSelectElement;
  const checkpoints = el('div', { class: `cp-choices ${prefix}-cp`, id: `${prefix}-checkpoints` });
  return { site, checkpoints };
}

/** Sends the form's body; shows the server's message (it names the field) or what was pushed. */
function wire(f: FormParts, path: string, body: () => Record<string, unknown>, reset: () => void): void {
  f.site.addEventListener('change', () => fillPlace(f));
  f.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    f.error.hidden = true;
    f.result.textContent = '';
    const b = body();
    const cps = [...f.checkpoints.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
    if (cps.length > 0) b['checkpoints'] = cps;
    void post(path, { site: f.site.value, ...b }).then(
      (r) => {
        const to = r.pushed.map((p) => p.checkpoint).join(', ') || '—';
        f.result.replaceChildren(bi(`已保存，已推送到 ${to}`, `Saved; pushed to ${to}`));
        if (r.failed.length > 0) f.result.append(el('div', { class: 'form-error' }, bi(`推送失败 ${r.failed.length} 处，将自动重试`, `${r.failed.length} push(es) failed; retried automatically: ${r.failed[0]?.message ?? ''}`)));
        reset();
        return refresh();
      },
      (err: unknown) => {
        f.error.textContent = `保存失败 Not saved: ${(err as Error).message}`;
        f.error.hidden = false;
      },
    );
  });
}

function approvalForm(): FormParts {
  const { site, checkpoints } = placeParts('ap');
  const subject = input({ id: 'ap-subject', required: '', maxlength: '128', autocomplete: 'off' });
  const name = input({ id: 'ap-name', maxlength: '100', autocomplete: 'off' });
  const approver = input({ id: 'ap-approver', required: '', maxlength: '100' });
  const host = input({ id: 'ap-host', required: '', maxlength: '100' });
  const from = input({ id: 'ap-from', type: 'datetime-local', required: '' });
  const until = input({ id: 'ap-until', type: 'datetime-local', required: '' });
  const maxUses = input({ id: 'ap-max', type: 'number', min: '1', max: '100000', step: '1', placeholder: '不限 no limit' });
  const times = (): void => {
    from.value = localInput(Date.now());
    until.value = localInput(Date.now() + 8 * HOUR);
  };
  times();
  const error = el('p', { class: 'form-error', id: 'ap-error', role: 'alert', hidden: '' });
  const result = el('div', { class: 'form-result', id: 'ap-result' });
  const form = el('form', { class: 'card', id: 'approval-form' },
    el('h3', {}, bi('访客审批', 'Visitor approval')),
    field('站点', 'Site', site),
    field('访客证件号', 'Visitor id (pass subject)', subject),
    field('姓名（仅办公室留存）', 'Name (kept at the office)', name),
    field('审批人', 'Approver', approver),
    field('接待部门', 'Host department', host),
    field('生效', 'Valid from', from),
    field('截止', 'Valid until', until),
    field('最多次数', 'Max uses (per gateway)', maxUses),
    el('div', { class: 'field' }, el('span', {}, bi('检查站', 'Checkpoints')), checkpoints),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', id: 'ap-submit' }, bi('签发并推送', 'Approve and push'))),
    error, result) as HTMLFormElement;
  const parts = { form, site, checkpoints, error, result };
  wire(parts, '/api/visitors/approvals', () => ({
    subjectId: subject.value,
    ...(name.value.trim() === '' ? {} : { name: name.value }),
    approver: approver.value,
    hostDepartment: host.value,
    validFrom: instant(from.value),
    validUntil: instant(until.value),
    ...(maxUses.value === '' ? {} : { maxUses: Number(maxUses.value) }),
  }), () => {
    subject.value = '';
    name.value = '';
  });
  return parts;
}

function stopRow(): HTMLElement {
  const remove = el('button', { type: 'button', class: 'remove-stop', title: '删除 remove' }, '×');
  const row = el('div', { class: 'stop' },
    input({ class: 'region', placeholder: '地区 region', required: '', maxlength: '200' }),
    input({ class: 'from', type: 'date', required: '' }),
    el('span', {}, '–'),
    input({ class: 'to', type: 'date', required: '' }),
    remove);
  remove.addEventListener('click', () => row.remove());
  return row;
}

function crewForm(): FormParts {
  const { site, checkpoints } = placeParts('cr');
  const responsible = input({ id: 'cr-responsible', required: '', maxlength: '100' });
  const members = el('textarea', { id: 'cr-members', rows: '3', required: '', placeholder: '每行一个证件号 one pass subject per line' }) as HTMLTextAreaElement;
  const from = input({ id: 'cr-from', type: 'datetime-local', required: '' });
  const until = input({ id: 'cr-until', type: 'datetime-local', required: '' });
  from.value = localInput(Date.now());
  until.value = localInput(Date.now() + 7 * 24 * HOUR);
  const stops = el('div', { class: 'stops', id: 'cr-stops' });
  const add = el('button', { type: 'button', id: 'cr-add-stop' }, bi('添加行程', 'Add a stop'));
  add.addEventListener('click', () => stops.append(stopRow()));
  const error = el('p', { class: 'form-error', id: 'cr-error', role: 'alert', hidden: '' });
  const result = el('div', { class: 'form-result', id: 'cr-result' });
  const form = el('form', { class: 'card', id: 'crew-form' },
    el('h3', {}, bi('外包人员登记', 'Contractor crew')),
    field('站点', 'Site', site),
    field('负责人', 'Responsible person', responsible),
    field('成员', 'Members', members),
    field('生效', 'Valid from', from),
    field('截止', 'Valid until', until),
    el('div', { class: 'field' }, el('span', {}, bi('14 天行程', 'Itinerary, 14 days')), el('div', {}, stops, add)),
    el('div', { class: 'field' }, el('span', {}, bi('检查站', 'Checkpoints')), checkpoints),
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary', id: 'cr-submit' }, bi('登记并推送', 'Register and push'))),
    error, result) as HTMLFormElement;
  const parts = { form, site, checkpoints, error, result };
  wire(parts, '/api/visitors/crews', () => ({
    responsible: responsible.value,
    members: members.value.split(/[\n,，]/).map((m) => m.trim()).filter((m) => m !== ''),
    validFrom: instant(from.value),
    validUntil: instant(until.value),
    itinerary: [...stops.querySelectorAll('.stop')].map((s) => ({
      region: (s.querySelector('.region') as HTMLInputElement).value,
      from: (s.querySelector('.from') as HTMLInputElement).value,
      to: (s.querySelector('.to') as HTMLInputElement).value,
    })),
  }), () => {
    members.value = '';
    stops.replaceChildren();
  });
  return parts;
}

function build(content: HTMLElement): View {
  const notes = el('div', { class: 'visitor-notes' });
  const forms = isAdmin ? [approvalForm(), crewForm()] : [];
  const approvals = el('div', { id: 'approvals-box' });
  const crews = el('div', { id: 'crews-box' });
  const root = el('div', { class: 'visitors' },
    el('p', { class: 'hint' }, bi('审批与登记经签名后按检查站推送（每站一整套）；网关确认状态随回执实时更新。', 'Signed and pushed per checkpoint (the full set of each); gateway confirmations update live as they answer.')),
    notes,
    forms.length > 0 ? el('div', { class: 'visitor-forms' }, ...forms.map((f) => f.form)) : el('p', { class: 'hint', id: 'admin-only' }, bi('仅管理员可登记或撤销。', 'Only an administrator can register or revoke.')),
    el('h3', {}, bi('访客审批', 'Visitor approvals')), approvals,
    el('h3', {}, bi('外包人员登记', 'Contractor crews')), crews);
  content.replaceChildren(root);
  return { root, notes, approvals, crews, forms };
}

function chips(e: Entry): HTMLElement {
  if (e.gateways.length === 0) return el('span', { class: 'hint' }, bi('尚无检查站', 'no checkpoint yet'));
  return el('div', { class: 'chips' }, ...e.gateways.map((g) => {
    const [zh, en] = CHIP[g.state];
    return el('span', { class: `chip ${g.state}`, 'data-checkpoint': g.checkpoint, title: g.at === null ? (g.version === null ? '' : `v${g.version}`) : `v${g.version ?? '?'} · ${time(g.at)}` },
      el('b', {}, g.checkpoint), ' ', bi(zh, en), g.errorCode === null ? null : el('span', { class: 'mono' }, ` ${g.errorCode}`));
  }));
}

function revokeButton(kind: 'approvals' | 'crews', e: Entry): HTMLElement | null {
  if (!isAdmin || (e.status !== 'active' && e.status !== 'upcoming')) return null;
  const b = el('button', { type: 'button', class: 'revoke' }, bi('撤销', 'Revoke'));
  b.addEventListener('click', () => {
    if (!confirm('撤销后将从各检查站移除。确定？ Revoke: it is removed from every checkpoint. Sure?')) return;
    void post(`/api/visitors/${kind}/${e.id}/revoke`, {}).then(() => refresh()).catch(showError);
  });
  return b;
}

function statusCell(e: Entry): HTMLElement {
  const [zh, en] = STATUS[e.status];
  return el('td', {}, el('span', { class: `vstatus ${e.status}` }, bi(zh, en)),
    e.revokedBy === null ? null : el('div', { class: 'for' }, `${e.revokedBy} · ${time(e.revokedAt)}`));
}

const windowCell = (e: Entry): HTMLElement => el('td', {}, time(e.validFrom), el('div', { class: 'for' }, `→ ${time(e.validUntil)}`));
const placeCell = (e: Entry): HTMLElement => el('td', {}, el('b', {}, e.site), el('div', { class: 'for' }, e.checkpoints === null ? bi('全部检查站', 'every checkpoint') : e.checkpoints.join(', ')));
const createdCell = (e: Entry): HTMLElement => el('td', {}, e.createdBy, el('div', { class: 'for' }, time(e.createdAt)));
const table = (id: string, heads: [string, string][], rows: HTMLElement[]): HTMLElement =>
  el('table', { class: 'grid', id }, el('thead', {}, el('tr', {}, ...heads.map(([zh, en]) => el('th', {}, zh ? bi(zh, en) : '')))), el('tbody', {}, ...rows));

function approvalsTable(list: ApprovalRow[]): HTMLElement {
  if (list.length === 0) return el('p', { class: 'placeholder', id: 'no-approvals' }, bi('暂无访客审批。', 'No visitor approvals.'));
  const rows = list.map((a) => el('tr', { class: `ventry ${a.status}`, 'data-id': a.id },
    statusCell(a),
    el('td', {}, el('span', { class: 'mono' }, a.subject), a.name === null ? null : el('div', { class: 'for' }, a.name)),
    el('td', {}, a.approver, el('div', { class: 'for' }, a.hostDepartment)),
    windowCell(a),
    el('td', { class: 'num' }, a.maxUses === null ? '—' : String(a.maxUses)),
    placeCell(a),
    el('td', {}, chips(a)),
    createdCell(a),
    el('td', { class: 'actions' }, revokeButton('approvals', a))));
  return table('approvals', [['状态', 'Status'], ['访客', 'Visitor'], ['审批人 / 接待部门', 'Approver / host'], ['有效期', 'Window'], ['次数', 'Uses'], ['站点 / 检查站', 'Site / checkpoints'], ['网关', 'Gateways'], ['登记', 'By'], ['', '']], rows);
}

function crewsTable(list: CrewRow[]): HTMLElement {
  if (list.length === 0) return el('p', { class: 'placeholder', id: 'no-crews' }, bi('暂无外包登记。', 'No contractor crews.'));
  const rows = list.map((c) => el('tr', { class: `ventry ${c.status}`, 'data-id': c.id },
    statusCell(c),
    el('td', {}, c.responsible),
    el('td', { class: 'num' }, String(c.members)),
    windowCell(c),
    el('td', {}, c.itinerary.length === 0 ? el('span', { class: 'hint' }, bi('无外出', 'stayed put')) : el('div', {}, ...c.itinerary.map((s) => el('div', {}, `${s.region} `, el('span', { class: 'for' }, `${s.from} – ${s.to}`))))),
    placeCell(c),
    el('td', {}, chips(c)),
    createdCell(c),
    el('td', { class: 'actions' }, revokeButton('crews', c))));
  return table('crews', [['状态', 'Status'], ['负责人', 'Responsible'], ['人数', 'Members'], ['有效期', 'Window'], ['行程', 'Itinerary'], ['站点 / 检查站', 'Site / checkpoints'], ['网关', 'Gateways'], ['登记', 'By'], ['', '']], rows);
}

async function renderVisitors(content: HTMLElement): Promise<void> {
  const fresh = await api<Data>('/api/visitors');
  if (view === null || !content.contains(view.root)) view = build(content);
  data = fresh;
  for (const f of view.forms) fillPlace(f);
  view.notes.replaceChildren(
    ...(fresh.canPush ? [] : [el('p', { class: 'form-error', id: 'no-key' }, bi('未配置签名密钥，办公室无法推送。', 'No signing key: the office cannot push.'))]),
    ...(fresh.syncFailure === null ? [] : [el('p', { class: 'form-error', id: 'sync-failure' }, bi(`最近一次推送失败（${time(fresh.syncFailure.at)}），将自动重试：`, 'Last push failed; retried automatically: '), fresh.syncFailure.message)]),
  );
  view.approvals.replaceChildren(approvalsTable(fresh.approvals));
  view.crews.replaceChildren(crewsTable(fresh.crews));
}

export const visitorsPage: Page = {
  title: '访客与外包 · Visitors and contractors',
  render: renderVisitors,
  refreshOn: (changed) => changed.includes('updates') || changed.includes('status'),
};
