// The checkpoints page: every gateway with its state, version, config, lanes and devices,
// outbox depth, last event and the update versions applied against the latest published.
import { bi, duration, el, time, api, type Page } from './lib.js';

interface Checkpoint {
  site: string;
  checkpoint: string;
  state: 'online' | 'offline' | 'unknown';
  cause: string | null;
  forMs: number | null;
  version: string | null;
  configHash: string | null;
  healthChecks: 'on' | 'off' | null;
  lanes: { id: string; state: string | null; accessOnly?: true; devices: { name: string; type: string | null; state: string | null }[] }[];
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
    // A lane without health checks: said per lane unless the whole checkpoint is so.
    const accessOnly = (): HTMLElement => el('span', { class: 'tag access-only' }, bi('仅门禁', 'access only'));
    const lanes = el('td', { class: 'lanes' }, ...c.lanes.map((l) => el('div', {}, el('b', {}, l.id), ` ${l.state ?? ''} `, l.accessOnly === true && c.healthChecks !== 'off' ? accessOnly() : null, ' ', ...l.devices.flatMap((d) => [el('span', { class: `device ${d.state === 'connected' ? 'ok' : 'bad'}`, title: d.type ?? '' }, `${d.name}: ${d.state ?? '?'}`), ' ']))));
    const updates = el('td', { class: 'updates' }, ...c.updates.map((u) => el('div', { class: u.outOfDate ? 'update stale' : 'update' }, `${u.kind} ${u.applied ?? '—'} / ${u.published ?? '—'} `, u.outOfDate ? el('span', { class: 'tag' }, bi('过期', 'out of date')) : null)));
    return el('tr', { 'data-checkpoint': c.checkpoint, class: `cp ${c.state}` },
      el('td', {}, el('b', {}, c.checkpoint), el('div', { class: 'for' }, c.site)),
      state,
      el('td', {}, c.version ?? '—', c.healthChecks === 'off' ? el('div', {}, el('span', { class: 'tag access-only', title: 'policy.healthChecks: off' }, bi('健康查验已停用', 'health checks off'))) : null),
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

export const checkpointsPage: Page = {
  title: '检查站 · Checkpoints',
  render: renderCheckpoints,
  refreshOn: (changed) => changed.some((k) => k === 'status' || k === 'events'),
};
