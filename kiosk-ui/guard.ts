// The guard console: sign-in, then live lanes, alerts (one row per passage, repeats folded),
// zone counts, feed, today's counts, daily screening, expected visitors, ledger search and
// export, and the override and zone-count dialogs. Texts come from the catalogue the server
// put on <body>; data goes in through textContent only.
import {
  SERIES,
  ackBatches,
  alertLines,
  celsius,
  chartModel,
  checkpointInstant,
  checkpointLocalInput,
  clockTime,
  dateTime,
  feedMatches,
  textOf,
  zoneCount,
  zoneLoad,
  type AlertRow,
  type GuardEvent,
  type GuardTexts,
  type HourBucket,
  type ScreeningReport,
  type Text,
  type ZoneView,
} from './guard-view.js';

const body = document.body;
const texts = JSON.parse(body.dataset['texts'] ?? '{}') as GuardTexts;
const laneList = JSON.parse(body.dataset['lanes'] ?? '[]') as { id: string; name: string }[];
const FEED_MAX = 100;
const POLL_MS = 5000;
/** Alert ids per acknowledgement request (the API's ACK_IDS_MAX). */
const ACK_BATCH = 250;

let csrfToken = '';
let feed: GuardEvent[] = [];
let stream: EventSource | null = null;
let pollTimer: number | undefined;
let loginTimer: number | undefined;
let alertRowsShown: AlertRow[] = [];
/** Whether the guard picked a screening date; otherwise the panel follows today. */
let screeningDatePicked = false;
let refreshTimer: number | undefined;
let overrideLane = '';
let correctedZone = '';

class Unauthenticated extends Error {}

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`console page lacks #${id}`);
  return found as T;
}

function bilingual(t: Text, tag: 'span' | 'div' = 'span'): HTMLElement {
  const box = document.createElement(tag);
  box.className = 'bi';
  const z = document.createElement('span');
  z.lang = 'zh-CN';
  z.textContent = t.zh;
  const e = document.createElement('span');
  e.lang = 'en';
  e.className = 'en';
  e.textContent = t.en;
  box.append(z, ' ', e);
  return box;
}

/** A button with a bilingual label. */
function actionButton(className: string, label: Text, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.append(bilingual(label));
  b.addEventListener('click', onClick);
  return b;
}

/** "<label>: <value>" as one line of a list. */
function labelled(label: Text, ...value: (string | Node)[]): HTMLLIElement {
  const li = document.createElement('li');
  li.append(bilingual(label), ': ', ...value);
  return li;
}

function fillTexts(root: ParentNode): void {
  for (const node of root.querySelectorAll<HTMLElement>('[data-t]')) {
    const key = node.dataset['t'] ?? '';
    node.replaceChildren(bilingual(textOf(texts, key)));
  }
}

function option(value: string, t: Text): HTMLOptionElement {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = `${t.zh} ${t.en}`;
  return o;
}

function fillSelect(sel: HTMLSelectElement, all: Text, items: [string, Text][]): void {
  sel.replaceChildren(option('', all), ...items.map(([v, t]) => option(v, t)));
}

function cell(content: string | Node, cls?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  td.append(content);
  return td;
}

const outcomeText = (o: string): Text => texts.outcomes[o] ?? { zh: o, en: o };
/** A ledger row's outcome as the guard says it; an override is 人工放行. */
const passageOutcome = (kind: string, outcome: string): Text => (kind === 'override' ? textOf(texts, 'kindOverride') : outcomeText(outcome));
const laneName = (id: string): string => laneList.find((l) => l.id === id)?.name ?? id;

// ---- HTTP ----
async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.method !== undefined && init.method !== 'GET') {
    headers.set('content-type', 'application/json');
    headers.set('x-csrf-token', csrfToken);
  }
  const res = await fetch(path, { ...init, headers, credentials: 'same-origin' });
  if (res.status === 401) throw new Unauthenticated();
  if (res.status === 204) return undefined as T;
  const data = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) throw Object.assign(new Error(data.error?.message ?? res.statusText), { code: data.error?.code ?? 'HTTP' });
  return data;
}

function onFailure(err: unknown): void {
  if (err instanceof Unauthenticated) {
    showLogin(textOf(texts, 'sessionExpired'));
    return;
  }
  console.error(err);
}

// ---- sign-in ----
function showLogin(message?: Text): void {
  stream?.close();
  stream = null;
  window.clearInterval(pollTimer);
  // The same open-alert count as the console's, for the guard about to sign in.
  window.clearInterval(loginTimer);
  void refreshOpenCount();
  loginTimer = window.setInterval(() => void refreshOpenCount(), POLL_MS);
  body.dataset['view'] = 'login';
  el('login').hidden = false;
  el('console').hidden = true;
  el('sign-out').hidden = true;
  el('who').textContent = '';
  const err = el('login-error');
  err.hidden = message === undefined;
  if (message) err.replaceChildren(bilingual(message));
  el<HTMLInputElement>('login-pin').value = '';
}

async function signIn(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  const id = el<HTMLInputElement>('login-id').value.trim();
  const pin = el<HTMLInputElement>('login-pin').value;
  try {
    const res = await fetch('/api/guard/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ guardId: id, pin }),
      credentials: 'same-origin',
    });
    const data = (await res.json()) as { guard?: { id: string; name: string }; csrfToken?: string; error?: { code: string } };
    if (!res.ok || data.guard === undefined || data.csrfToken === undefined) {
      const code = data.error?.code;
      showLogin(textOf(texts, code === 'ACCOUNT_LOCKED' ? 'accountLocked' : code === 'RATE_LIMITED' ? 'tooManyAttempts' : 'signInFailed'));
      return;
    }
    startConsole(data.guard, data.csrfToken);
  } catch (err) {
    onFailure(err);
  }
}

async function signOut(): Promise<void> {
  try {
    await api('/api/guard/logout', { method: 'POST', body: '{}' });
  } catch (err) {
    if (!(err instanceof Unauthenticated)) console.error(err);
  }
  showLogin();
}

async function refreshOpenCount(): Promise<void> {
  try {
    const res = await fetch('/api/guard/alerts/count', { credentials: 'same-origin' });
    if (res.ok) setAlertCount(((await res.json()) as { unacked: number }).unacked);
  } catch (err) {
    console.error(err);
  }
}

function startConsole(guard: { id: string; name: string }, token: string): void {
  window.clearInterval(loginTimer);
  csrfToken = token;
  body.dataset['view'] = 'console';
  el('login').hidden = true;
  el('console').hidden = false;
  el('sign-out').hidden = false;
  el('who').textContent = `${guard.name} (${guard.id})`;
  connectStream();
  void refreshAll();
  window.clearInterval(pollTimer);
  pollTimer = window.setInterval(() => void Promise.all([refreshStatus(), refreshZones()]).catch(onFailure), POLL_MS);
}

// ---- live data ----
function connectStream(): void {
  stream?.close();
  const source = new EventSource('/api/guard/stream');
  stream = source;
  source.addEventListener('open', () => {
    el('conn').hidden = true;
  });
  source.addEventListener('ledger', (ev: MessageEvent<string>) => {
    const e = JSON.parse(ev.data) as GuardEvent;
    feed = [e, ...feed.filter((x) => x.id !== e.id)].slice(0, FEED_MAX);
    paintFeed();
    scheduleRefresh();
  });
  source.addEventListener('lane', () => scheduleRefresh());
  source.addEventListener('error', () => {
    el('conn').hidden = false;
    if (source.readyState === EventSource.CLOSED) {
      // Closed for good: the session may have ended. Ask, then reconnect or sign in.
      window.setTimeout(() => {
        api('/api/guard/session')
          .then(() => connectStream())
          .catch(onFailure);
      }, 2000);
    }
  });
}

/** Bursts of events (a decision, its alert, the lane's snapshot) cause one refresh. */
function scheduleRefresh(): void {
  window.clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(() => {
    void Promise.all([refreshStatus(), refreshAlerts(), refreshZones(), refreshStats(), refreshScreening(), refreshExpected()]).catch(onFailure);
  }, 250);
}

async function refreshAll(): Promise<void> {
  try {
    const page = await api<{ events: GuardEvent[] }>('/api/guard/ledger?limit=50');
    feed = page.events;
    paintFeed();
    await Promise.all([refreshStatus(), refreshAlerts(), refreshZones(), refreshStats(), refreshScreening(), refreshExpected(), search()]);
  } catch (err) {
    onFailure(err);
  }
}

interface LaneStatus {
  id: string;
  name: string;
  state: string;
  devices: Record<'scanner' | 'thermometer' | 'relay', { state: string; type: string; detail?: string }>;
  /** off: the lane checks no health: no thermometer, no health wording. */
  healthChecks?: 'off';
}

const LANE_STATE_KEY: Record<string, string> = {
  idle: 'laneIdle',
  measuring: 'laneMeasuring',
  showing: 'laneShowing',
  'out-of-service': 'laneOutOfService',
};
const DEVICE_STATE_KEY: Record<string, string> = { connected: 'deviceConnected', disconnected: 'deviceDisconnected', fault: 'deviceFault' };
const LINK_STATE_KEY: Record<string, string> = { connected: 'linkConnected', connecting: 'linkConnecting', disconnected: 'linkDisconnected' };

async function refreshStatus(): Promise<void> {
  const s = await api<{ lanes: LaneStatus[]; mqtt: { state: string; url: string } | null; outboxDepth: number; unackedAlerts: number }>(
    '/api/guard/status',
  );
  setAlertCount(s.unackedAlerts);
  el('lanes').replaceChildren(
    ...s.lanes.map((l) => {
      const card = document.createElement('article');
      card.className = 'lane';
      card.dataset['lane'] = l.id;
      card.dataset['state'] = l.state;
      const h = document.createElement('h3');
      h.textContent = l.name;
      const accessOnly = l.healthChecks === 'off';
      // Without health checks nobody is measured: a busy lane waits for a driver's pass.
      const stateKey = accessOnly && l.state === 'measuring' ? 'laneBusy' : (LANE_STATE_KEY[l.state] ?? l.state);
      const state = bilingual(textOf(texts, stateKey), 'div');
      state.classList.add('state');
      const list = document.createElement('ul');
      list.className = 'devices';
      for (const d of accessOnly ? (['scanner', 'relay'] as const) : (['scanner', 'thermometer', 'relay'] as const)) {
        const li = labelled(textOf(texts, d), bilingual(textOf(texts, DEVICE_STATE_KEY[l.devices[d].state] ?? l.devices[d].state)));
        li.dataset['device'] = d;
        li.dataset['state'] = l.devices[d].state;
        list.append(li);
      }
      const button = actionButton('danger override', textOf(texts, 'override'), () => openOverride(l.id));
      button.dataset['lane'] = l.id;
      card.append(h, state);
      if (accessOnly) {
        const mode = bilingual(textOf(texts, 'accessOnly'), 'div');
        mode.classList.add('mode');
        card.append(mode);
      }
      card.append(list, button);
      return card;
    }),
  );
  const link = el('link');
  link.dataset['state'] = s.mqtt?.state ?? 'none';
  link.replaceChildren(
    bilingual(textOf(texts, 'mqttLink')),
    ': ',
    bilingual(textOf(texts, s.mqtt === null ? 'linkNone' : (LINK_STATE_KEY[s.mqtt.state] ?? s.mqtt.state))),
    ' · ',
    bilingual(textOf(texts, 'outboxDepth')),
    `: ${s.outboxDepth}`,
  );
}

function setAlertCount(n: number): void {
  el('alert-count').textContent = String(n);
  el('alert-badge').dataset['count'] = String(n);
}

async function refreshAlerts(): Promise<void> {
  const { rows, unacked } = await api<{ rows: AlertRow[]; unacked: number }>('/api/guard/alerts?limit=100');
  setAlertCount(unacked);
  alertRowsShown = rows;
  el<HTMLButtonElement>('ack-all').disabled = !rows.some((r) => r.state === 'open');
  el('alerts').replaceChildren(...(rows.length > 0 ? rows.map(alertItem) : [bilingual(textOf(texts, 'noAlerts'), 'div')]));
}

/** One row: when, where, what kind, how often; what happened in words; acknowledge, or who did. */
function alertItem(r: AlertRow): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset['state'] = r.state;
  li.dataset['severity'] = r.severity;
  li.dataset['count'] = String(r.count);
  li.dataset['kinds'] = r.kinds.join(' ');
  li.dataset['codes'] = r.codes.join(' ');
  if (r.passage !== null) li.dataset['event'] = r.passage.id;
  // The technical detail (English, for the office) on hover only.
  if (r.detail) li.title = r.detail;
  const what = document.createElement('div');
  what.className = 'what';
  const [first, last] = [clockTime(r.first), clockTime(r.last)];
  what.append(`${first === last ? last : `${first}–${last}`} ${r.lane === null ? '' : laneName(r.lane)} `);
  for (const k of r.kinds) {
    const kind = bilingual(texts.alertKinds[k] ?? textOf(texts, 'alerts'));
    kind.classList.add('kind');
    what.append(kind, ' ');
  }
  if (r.count > 1) {
    const times = document.createElement('b');
    times.className = 'times';
    times.textContent = `×${r.count}`;
    what.append(times);
  }
  const said = document.createElement('div');
  said.className = 'said';
  const p = r.passage;
  if (p !== null) {
    const outcome = bilingual(passageOutcome(p.kind, p.outcome));
    outcome.classList.add('badge');
    outcome.dataset['outcome'] = p.kind === 'override' ? 'override' : p.outcome;
    said.append(...(p.name === null ? [] : [`${p.name} `]), outcome);
  }
  for (const t of alertLines(r, texts)) said.append(bilingual(t, 'div'));
  if (p !== null) said.append(passageLink(textOf(texts, 'alertPassage'), p.id, p.at, r.lane ?? ''));
  li.append(what, said);
  if (r.state === 'open') li.append(actionButton('ack', textOf(texts, 'acknowledge'), () => void acknowledge([r.ids])));
  else {
    const side = document.createElement('div');
    side.className = r.state === 'done' ? 'acked' : r.state;
    if (r.state === 'info') side.append(bilingual(textOf(texts, 'alertInfo')));
    else side.append(bilingual(textOf(texts, 'acknowledgedBy')), `: ${r.ackedBy ?? ''} ${r.ackedAt === null ? '' : clockTime(r.ackedAt)}`);
    li.append(side);
  }
  return li;
}

/** Acknowledges exactly these alerts (what the guard had on screen), batch by batch. */
async function acknowledge(batches: string[][]): Promise<void> {
  try {
    for (const ids of batches) await api('/api/guard/alerts/ack', { method: 'POST', body: JSON.stringify({ ids }) });
  } catch (err) {
    onFailure(err);
  }
  await refreshAlerts().catch(onFailure);
}

/** A link that brings a passage's ledger row into view: in the feed, else found in the ledger. */
function passageLink(label: Text, id: string, at: string, lane: string): HTMLAnchorElement {
  const a = document.createElement('a');
  a.href = '#ledger-panel';
  a.className = 'passage-link';
  a.dataset['passage'] = id;
  a.append(bilingual(label));
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    void showPassage(id, at, lane).catch(onFailure);
  });
  return a;
}

async function showPassage(id: string, at: string, lane: string): Promise<void> {
  const selector = `tr[data-event="${CSS.escape(id)}"]`;
  let row = document.querySelector<HTMLElement>(`#feed ${selector}`) ?? document.querySelector<HTMLElement>(`#ledger ${selector}`);
  if (row === null) {
    // Not on screen: search the ledger for its lane around its minute.
    const t = Date.parse(at);
    el<HTMLInputElement>('q-from').value = checkpointLocalInput(t - 60_000);
    el<HTMLInputElement>('q-to').value = checkpointLocalInput(t + 120_000);
    el<HTMLSelectElement>('q-lane').value = lane;
    for (const field of ['q-outcome', 'q-credential', 'q-subject']) el<HTMLInputElement | HTMLSelectElement>(field).value = '';
    await search();
    row = document.querySelector<HTMLElement>(`#ledger ${selector}`);
  }
  const found = row;
  if (found === null) return;
  found.scrollIntoView({ block: 'center' });
  found.classList.add('shown');
  window.setTimeout(() => found.classList.remove('shown'), 4000);
}

// ---- zones: people inside now, against the limit; the guard corrects the count ----
const ANTI_PASSBACK_KEY: Record<string, string> = {
  off: 'antiPassbackOff',
  hard: 'antiPassbackHard',
  soft: 'antiPassbackSoft',
  timed: 'antiPassbackTimed',
};

async function refreshZones(): Promise<void> {
  const { zones } = await api<{ zones: ZoneView[] }>('/api/guard/zones');
  el('zones-panel').hidden = zones.length === 0;
  el('zones').replaceChildren(...zones.map(zoneCard));
}

function zoneCard(zn: ZoneView): HTMLElement {
  const load = zoneLoad(zn.count, zn.limit);
  const card = document.createElement('article');
  card.className = 'zone';
  card.dataset['zone'] = zn.id;
  card.dataset['load'] = load;
  const h = document.createElement('h3');
  h.textContent = zn.name;
  const count = document.createElement('div');
  count.className = 'count';
  const n = document.createElement('b');
  n.textContent = zoneCount(zn.count, zn.limit);
  count.append(n);
  if (zn.limit === null) count.append(' ', bilingual(textOf(texts, 'zoneNoLimit')));
  else if (load !== 'open') count.append(' ', bilingual(textOf(texts, load === 'full' ? 'zoneFull' : 'zoneOverLimit')));
  const rules = document.createElement('ul');
  rules.className = 'rules';
  rules.append(labelled(textOf(texts, 'zoneEntryLanes'), zn.entryLanes.map(laneName).join(', ')));
  if (zn.exitLanes.length > 0) rules.append(labelled(textOf(texts, 'zoneExitLanes'), zn.exitLanes.map(laneName).join(', ')));
  rules.append(labelled(textOf(texts, 'antiPassback'), bilingual(textOf(texts, ANTI_PASSBACK_KEY[zn.antiPassback] ?? zn.antiPassback))));
  if (zn.resetAt.length > 0) rules.append(labelled(textOf(texts, 'zoneResetAt'), zn.resetAt.join(', ')));
  const last = zn.corrections[0];
  const correction =
    last === undefined
      ? labelled(textOf(texts, 'zoneLastCorrection'), bilingual(textOf(texts, 'zoneNoCorrections')))
      : labelled(textOf(texts, 'zoneLastCorrection'), `${dateTime(last.at)} ${last.guard} ${last.from} → ${last.to} “${last.reason}”`);
  correction.className = 'correction';
  rules.append(correction);
  const button = actionButton('correct', textOf(texts, 'zoneCorrect'), () => openZoneCorrection(zn));
  button.dataset['zone'] = zn.id;
  card.append(h, count, rules, button);
  return card;
}

function eventRow(e: GuardEvent): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset['event'] = e.id;
  tr.dataset['outcome'] = e.outcome;
  tr.dataset['kind'] = e.kind;
  const outcome = bilingual(passageOutcome(e.kind, e.outcome));
  outcome.classList.add('badge');
  const reasons = document.createElement('div');
  for (const r of e.reasons) reasons.append(bilingual(r, 'div'));
  if (e.note) {
    const n = document.createElement('div');
    n.className = 'note';
    n.textContent = `“${e.note}”`;
    reasons.append(n);
  }
  if (e.answers !== null) {
    // The refused (or referred) passage this override answers.
    const a = e.answers;
    const link = passageLink(textOf(texts, 'overrideAnswers'), a.id, a.at, e.lane);
    link.classList.add('answers');
    link.append(`: ${clockTime(a.at)} ${a.name ?? ''} `, bilingual(outcomeText(a.outcome)));
    reasons.append(link);
  }
  tr.append(
    cell(clockTime(e.at), 'time'),
    cell(laneName(e.lane)),
    cell(outcome),
    cell(e.name ?? ''),
    cell(celsius(e.temperature), 'num'),
    cell(reasons, 'reasons'),
    cell(e.actor ?? '', 'actor'),
  );
  return tr;
}

function paintFeed(): void {
  const lane = el<HTMLSelectElement>('feed-lane').value;
  const outcome = el<HTMLSelectElement>('feed-outcome').value;
  const rows = feed.filter((e) => feedMatches(e, lane, outcome)).map(eventRow);
  el('feed').replaceChildren(...(rows.length > 0 ? rows : [emptyRow()]));
}

function emptyRow(): HTMLTableRowElement {
  const tr = document.createElement('tr');
  const td = cell(bilingual(textOf(texts, 'noRows')));
  td.colSpan = 7;
  tr.append(td);
  return tr;
}

/** A big number with its label (today's counts, the screening counts). */
function totalBox(series: string, n: number, label: Text): HTMLElement {
  const box = document.createElement('div');
  box.className = 'total';
  box.dataset['series'] = series;
  const b = document.createElement('b');
  b.textContent = String(n);
  box.append(b, bilingual(label, 'div'));
  return box;
}

async function refreshStats(): Promise<void> {
  const s = await api<{ totals: Record<string, number>; hours: HourBucket[] }>('/api/guard/stats');
  el('totals').replaceChildren(
    ...(['admit', 'refuse', 'refer'] as const).map((o) => totalBox(o, s.totals[o] ?? 0, outcomeText(o))),
    totalBox('override', s.totals['override'] ?? 0, textOf(texts, 'kindOverride')),
  );
  el('chart').replaceChildren(chartSvg(s.hours), chartLegend());
}

const SVG = 'http://www.w3.org/2000/svg';
function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** The hour chart, drawn by hand: grid, bars per outcome, hour labels, legend. */
function chartSvg(hours: HourBucket[]): SVGSVGElement {
  const m = chartModel(hours);
  const root = svg('svg', { viewBox: `0 0 ${m.width} ${m.height}`, role: 'img', class: 'hourly' });
  const title = svg('title', {});
  title.textContent = `${textOf(texts, 'hourly').zh} ${textOf(texts, 'hourly').en}`;
  root.append(title);
  for (const g of m.grid) {
    root.append(svg('line', { x1: 36, x2: m.width - 8, y1: g.y, y2: g.y, class: 'grid' }));
    const t = svg('text', { x: 30, y: g.y + 4, class: 'axis', 'text-anchor': 'end' });
    t.textContent = String(g.value);
    root.append(t);
  }
  for (const b of m.bars) {
    const r = svg('rect', { x: b.x.toFixed(1), y: b.y.toFixed(1), width: b.width.toFixed(1), height: b.height.toFixed(1), class: `bar ${b.series}` });
    const tip = svg('title', {});
    tip.textContent = `${String(b.hour).padStart(2, '0')}:00 ${outcomeText(b.series).zh} ${b.n}`;
    r.append(tip);
    root.append(r);
  }
  for (const l of m.hourLabels) {
    const t = svg('text', { x: l.x, y: m.baseline + 16, class: 'axis', 'text-anchor': 'middle' });
    t.textContent = `${String(l.hour).padStart(2, '0')}`;
    root.append(t);
  }
  return root;
}

function chartLegend(): HTMLElement {
  const box = document.createElement('div');
  box.className = 'legend';
  for (const s of SERIES) {
    const item = document.createElement('span');
    item.dataset['series'] = s;
    item.append(bilingual(outcomeText(s)));
    box.append(item);
  }
  return box;
}

// ---- daily screening: which rostered workers passed a lane today, and who not yet ----
async function refreshScreening(): Promise<void> {
  const input = el<HTMLInputElement>('screening-date');
  const date = screeningDatePicked ? input.value : '';
  const r = await api<ScreeningReport>(`/api/guard/screening${date === '' ? '' : `?date=${encodeURIComponent(date)}`}`);
  if (!screeningDatePicked) input.value = r.date;
  el('screening-totals').replaceChildren(
    totalBox('workers', r.workers, textOf(texts, 'screeningWorkers')),
    totalBox('screened', r.screened.length, textOf(texts, 'screened')),
    totalBox('not-screened', r.notScreened.length, textOf(texts, 'notScreened')),
  );
  const category = (c: string): string => texts.categories[c]?.zh ?? c;
  const none = (key: string): HTMLTableRowElement => {
    const tr = document.createElement('tr');
    const td = cell(bilingual(textOf(texts, key)));
    td.colSpan = 5;
    tr.append(td);
    return tr;
  };
  el('not-screened').replaceChildren(
    ...(r.notScreened.length === 0
      ? [none('screeningEveryone')]
      : r.notScreened.map((w) => {
          const tr = document.createElement('tr');
          tr.dataset['staff'] = w.staffId;
          tr.append(cell(w.name), cell(category(w.category)), cell(w.staffId));
          return tr;
        })),
  );
  el('screened').replaceChildren(
    ...(r.screened.length === 0
      ? [none('screeningNobody')]
      : r.screened.map((w) => {
          const tr = document.createElement('tr');
          tr.dataset['staff'] = w.staffId;
          tr.dataset['outcome'] = w.outcome;
          const outcome = bilingual(outcomeText(w.outcome));
          outcome.classList.add('badge');
          tr.append(cell(clockTime(w.firstAt), 'time'), cell(w.name), cell(category(w.category)), cell(laneName(w.lane)), cell(outcome));
          return tr;
        })),
  );
}

async function refreshExpected(): Promise<void> {
  const { people } = await api<{
    people: { subjectId: string; name: string | null; approver: string; hostDepartment: string; arrivedAt: string | null; category: string | null }[];
  }>('/api/guard/expected');
  const rows = people.map((p) => {
    const tr = document.createElement('tr');
    tr.dataset['arrived'] = String(p.arrivedAt !== null);
    const status = bilingual(textOf(texts, p.arrivedAt === null ? 'notYet' : 'arrived'));
    status.classList.add('badge');
    const cat = p.category === null ? '' : `${texts.categories[p.category]?.zh ?? p.category}`;
    tr.append(
      cell(status),
      cell(p.name ?? p.subjectId),
      cell(cat),
      cell(p.hostDepartment),
      cell(p.approver),
      cell(p.arrivedAt === null ? '' : clockTime(p.arrivedAt), 'time'),
    );
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(bilingual(textOf(texts, 'noneExpected')));
    td.colSpan = 6;
    tr.append(td);
    rows.push(tr);
  }
  el('expected').replaceChildren(...rows);
}

// ---- ledger search ----
function ledgerParams(): URLSearchParams {
  const p = new URLSearchParams();
  const from = el<HTMLInputElement>('q-from').value;
  const to = el<HTMLInputElement>('q-to').value;
  // The fields are checkpoint time (China time), like every time the console shows.
  const fromAt = checkpointInstant(from);
  const toAt = checkpointInstant(to);
  if (fromAt) p.set('from', fromAt);
  if (toAt) p.set('to', toAt);
  for (const [id, name] of [
    ['q-lane', 'lane'],
    ['q-outcome', 'outcome'],
    ['q-credential', 'credential'],
    ['q-subject', 'subject'],
  ] as const) {
    const v = el<HTMLInputElement | HTMLSelectElement>(id).value.trim();
    if (v) p.set(name, v);
  }
  return p;
}

interface LedgerPage {
  events: GuardEvent[];
  nextBefore: number | null;
  /** Names were searched back to this row only (a bounded number of rows per request). */
  searchedBackTo: { seq: number; at: string } | null;
}

/**
 * Requests one search or "search older" makes at most while it finds nothing new. Each is
 * a bounded amount of work on the gateway (a name is searched in a window of rows per
 * request) and the lanes' passages go between them, so a click reaches further back
 * without holding a lane.
 */
const AUTO_REQUESTS = 8;

/** The search on screen: its parameters, the rows shown by seq, and where the next request starts. */
let ledgerSearch: { params: URLSearchParams; shown: Map<number, GuardEvent>; next: LedgerPage } | null = null;

async function search(): Promise<void> {
  const p = ledgerParams();
  el<HTMLAnchorElement>('export').href = `/api/guard/ledger.csv${p.size > 0 ? `?${p.toString()}` : ''}`;
  p.set('limit', '200');
  const page = await api<LedgerPage>(`/api/guard/ledger?${p.toString()}`);
  const s = { params: p, shown: new Map(page.events.map((e) => [e.seq, e])), next: page };
  ledgerSearch = s;
  paintLedger();
  if (page.events.length === 0 && page.searchedBackTo !== null) await searchOlder(AUTO_REQUESTS - 1);
}

/** "Search older" / "More": the next page, added to the rows shown (a person's row found again is shown once). */
async function searchOlder(requests = AUTO_REQUESTS): Promise<void> {
  const s = ledgerSearch;
  for (let i = 0; s !== null && i < requests && s.next.nextBefore !== null; i++) {
    const p = new URLSearchParams(s.params);
    p.set('before', String(s.next.nextBefore));
    const page = await api<LedgerPage>(`/api/guard/ledger?${p.toString()}`);
    if (ledgerSearch !== s) return;
    const before = s.shown.size;
    for (const e of page.events) s.shown.set(e.seq, e);
    s.next = page;
    paintLedger();
    // Found something, or plain paging ("More"): one request per click.
    if (s.shown.size > before || page.searchedBackTo === null) return;
  }
}

function paintLedger(): void {
  const s = ledgerSearch;
  if (s === null) return;
  const rows = [...s.shown.values()]
    .sort((a, b) => b.seq - a.seq)
    .map((e) => {
      const tr = eventRow(e);
      const first = tr.firstElementChild;
      if (first) first.textContent = dateTime(e.at);
      return tr;
    });
  el('ledger').replaceChildren(...(rows.length > 0 ? rows : [emptyRow()]));
  const back = s.next.searchedBackTo;
  el('ledger-more').hidden = s.next.nextBefore === null;
  el('ledger-searched').replaceChildren(
    ...(back === null ? [] : [bilingual({ zh: `${textOf(texts, 'namesSearchedBackTo').zh} ${dateTime(back.at)}`, en: `${textOf(texts, 'namesSearchedBackTo').en} ${dateTime(back.at)}` })]),
  );
  el('ledger-older').replaceChildren(bilingual(textOf(texts, back === null ? 'moreRows' : 'searchOlder')));
}

// ---- dialogs: the override and the zone correction are the same kind of form ----
/**
 * Wires `#<name>-dialog` (its form, cancel button and error line) and returns its opener.
 * On submit `send` makes the request: the dialog closes and the console refreshes when it
 * resolves; when it throws, the dialog stays open with `failed` and the server's message.
 */
function formDialog(name: string, failed: Text, send: () => Promise<void>): (prepare: () => void) => void {
  const dialog = el<HTMLDialogElement>(`${name}-dialog`);
  const error = el(`${name}-error`);
  el<HTMLFormElement>(`${name}-form`).addEventListener('submit', (ev) => {
    ev.preventDefault();
    void send().then(
      () => {
        dialog.close();
        scheduleRefresh();
      },
      (err: unknown) => {
        if (err instanceof Unauthenticated) {
          dialog.close();
          onFailure(err);
          return;
        }
        const message = (err as Error).message;
        error.hidden = false;
        error.replaceChildren(bilingual(failed), ...(message === '' ? [] : [` ${message}`]));
      },
    );
  });
  el(`${name}-cancel`).addEventListener('click', () => dialog.close());
  return (prepare) => {
    prepare();
    error.hidden = true;
    dialog.showModal();
  };
}

// ---- override ----
const overrideDialog = formDialog('override', textOf(texts, 'overrideFailed'), async () => {
  const reason = document.querySelector<HTMLInputElement>('input[name="override-reason"]:checked')?.value ?? '';
  const note = el<HTMLTextAreaElement>('override-note').value.trim();
  const r = await api<{ pulsed: boolean }>(`/api/lanes/${encodeURIComponent(overrideLane)}/override`, {
    method: 'POST',
    body: JSON.stringify({ reason, note }),
  });
  if (!r.pulsed) throw new Error('');
});

function openOverride(lane: string): void {
  overrideDialog(() => {
    overrideLane = lane;
    el('override-lane').textContent = laneName(lane);
    for (const r of document.querySelectorAll<HTMLInputElement>('input[name="override-reason"]')) r.checked = false;
    el<HTMLTextAreaElement>('override-note').value = '';
  });
}

// ---- zone count correction ----
const zoneDialog = formDialog('zone', textOf(texts, 'zoneCorrectFailed'), async () => {
  const count = el<HTMLInputElement>('zone-count').valueAsNumber;
  const reason = el<HTMLTextAreaElement>('zone-reason').value.trim();
  await api(`/api/guard/zones/${encodeURIComponent(correctedZone)}/count`, { method: 'POST', body: JSON.stringify({ count, reason }) });
});

function openZoneCorrection(zn: ZoneView): void {
  zoneDialog(() => {
    correctedZone = zn.id;
    el('zone-name').textContent = zn.name;
    el<HTMLInputElement>('zone-count').value = String(zn.count);
    el<HTMLTextAreaElement>('zone-reason').value = '';
  });
}

// ---- start ----
function setUp(): void {
  fillTexts(document);
  const lanes: [string, Text][] = laneList.map((l) => [l.id, { zh: l.name, en: '' }]);
  const outcomes: [string, Text][] = (['admit', 'refuse', 'refer'] as const).map((o) => [o, outcomeText(o)]);
  for (const id of ['feed-lane', 'q-lane']) fillSelect(el<HTMLSelectElement>(id), textOf(texts, 'allLanes'), lanes);
  for (const id of ['feed-outcome', 'q-outcome']) fillSelect(el<HTMLSelectElement>(id), textOf(texts, 'allOutcomes'), outcomes);
  fillSelect(el<HTMLSelectElement>('q-credential'), textOf(texts, 'allCredentials'), [
    // With health checks off the same credential is just a pass.
    ['health-pass', textOf(texts, document.body.dataset['healthChecks'] === 'off' ? 'credentialPass' : 'credentialHealthPass')],
    ['staff-badge', textOf(texts, 'credentialStaffBadge')],
    ['dcc', textOf(texts, 'credentialDcc')],
    ['unknown', textOf(texts, 'credentialUnknown')],
  ]);
  const subject = el<HTMLInputElement>('q-subject');
  subject.placeholder = `${textOf(texts, 'subject').zh} ${textOf(texts, 'subject').en}`;
  // The reasons as a list of choices whose text wraps: a select cut them off.
  el('override-reasons').append(
    ...texts.overrideReasons.map((r) => {
      const label = document.createElement('label');
      label.className = 'choice';
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'override-reason';
      input.value = r.code;
      input.required = true;
      label.append(input, bilingual(r));
      return label;
    }),
  );
  el('ack-all').addEventListener('click', () => void acknowledge(ackBatches(alertRowsShown, ACK_BATCH)));
  el('screening-date').addEventListener('change', () => {
    screeningDatePicked = el<HTMLInputElement>('screening-date').value !== '';
    void refreshScreening().catch(onFailure);
  });
  el<HTMLFormElement>('login-form').addEventListener('submit', (ev) => void signIn(ev));
  el('sign-out').addEventListener('click', () => void signOut());
  el<HTMLFormElement>('ledger-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void search().catch(onFailure);
  });
  el('ledger-older').addEventListener('click', () => void searchOlder().catch(onFailure));
  for (const id of ['feed-lane', 'feed-outcome']) el(id).addEventListener('change', paintFeed);

  api<{ guard: { id: string; name: string }; csrfToken: string }>('/api/guard/session')
    .then((s) => startConsole(s.guard, s.csrfToken))
    .catch((err: unknown) => {
      if (err instanceof Unauthenticated) showLogin();
      else onFailure(err);
    });
}

setUp();
