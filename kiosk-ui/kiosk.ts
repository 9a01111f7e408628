// The kiosk screen: follows one lane's snapshots over server-sent events and paints
// the matching view. All text from the server goes in through textContent only.
import {
  DEVICE_NAMES,
  isKioskSnapshot,
  msUntilChange,
  viewFor,
  type KioskReason,
  type KioskSnapshot,
  type KioskView,
} from './kiosk-view.js';
import { playTone } from './tones.js';

const body = document.body;
const lane = body.dataset['lane'] ?? '';
const resetMs = Number(body.dataset['resetMs']) || 5000;
// The decision time comes from the gateway's clock; a kiosk on another machine may
// disagree, so measure the difference once against the time the page was rendered.
const serverNowAtLoad = Number(body.dataset['serverNow']);
const clockOffset = Number.isFinite(serverNowAtLoad) ? serverNowAtLoad - Date.now() : 0;
const serverNow = (): number => Date.now() + clockOffset;

const MAX_RETRY_MS = 30_000;

let snapshot: KioskSnapshot | null = null;
let repaintTimer: number | undefined;
/** The decision whose tone was played; the first snapshot after loading plays none. */
let tonedEvent: string | null | undefined;

function el(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`kiosk page lacks #${id}`);
  return found;
}

function bilingual(tag: 'p' | 'span', zh: string, en: string, cls: string): HTMLElement {
  const box = document.createElement(tag);
  box.className = cls;
  const z = document.createElement('span');
  z.lang = 'zh-CN';
  z.className = 'zh';
  z.textContent = zh;
  const e = document.createElement('span');
  e.lang = 'en';
  e.className = 'en';
  e.textContent = en;
  box.append(z, ' ', e);
  return box;
}

function reasonItem(r: KioskReason): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset['code'] = r.code;
  li.append(bilingual('p', r.zh, r.en, 'reason'));
  if (r.next !== undefined) li.append(bilingual('p', r.next.zh, r.next.en, 'next'));
  return li;
}

function fillPerson(kind: string, name: string | null, temperature: string | null): void {
  const nameEl = el(`${kind}-name`);
  const tempEl = el(`${kind}-temp`);
  nameEl.textContent = name ?? '';
  nameEl.hidden = name === null || name === '';
  tempEl.textContent = temperature ?? '';
  tempEl.hidden = temperature === null;
}

function paint(view: KioskView): void {
  body.dataset['view'] = view.kind;
  for (const section of document.querySelectorAll<HTMLElement>('[data-view-of]')) {
    section.hidden = section.dataset['viewOf'] !== view.kind;
  }
  switch (view.kind) {
    case 'waiting': {
      const occ = el('occupancy');
      occ.hidden = view.zone === null;
      occ.classList.toggle('full', view.zone?.full === true);
      el('occupancy-zh').textContent = view.zone?.text.zh ?? '';
      el('occupancy-en').textContent = view.zone?.text.en ?? '';
      break;
    }
    case 'measuring':
      el('prompt-zh').textContent = view.prompt.zh;
      el('prompt-en').textContent = view.prompt.en;
      break;
    case 'admit':
    case 'refuse':
    case 'refer': {
      fillPerson(view.kind, view.maskedName, view.temperature);
      if (view.kind !== 'admit') el(`${view.kind}-reasons`).replaceChildren(...view.reasons.map(reasonItem));
      break;
    }
    case 'out-of-service':
      el('oos-devices').replaceChildren(
        ...view.down.map((d) => {
          const li = document.createElement('li');
          li.append(bilingual('span', DEVICE_NAMES[d].zh, DEVICE_NAMES[d].en, 'device'));
          return li;
        }),
      );
      break;
  }
}

function render(): void {
  window.clearTimeout(repaintTimer);
  if (snapshot === null) return;
  const now = serverNow();
  const view = viewFor(snapshot, now, resetMs);
  paint(view);
  // Return to waiting by itself when the decision's time is up, even with no new event.
  const wait = msUntilChange(view, now);
  if (wait !== null) repaintTimer = window.setTimeout(render, wait + 20);
}

/** One tone per new decision, as it arrives. */
function soundFor(s: KioskSnapshot): void {
  const last = s.last;
  const id = last?.eventId ?? null;
  if (tonedEvent === undefined) {
    tonedEvent = id;
    return;
  }
  if (last === null || id === tonedEvent) return;
  tonedEvent = id;
  playTone(last.outcome);
  body.dataset['tone'] = `${last.outcome}:${id ?? ''}`;
}

function setConnected(ok: boolean): void {
  el('conn').hidden = ok;
}

let retryMs = 1000;

function connect(): void {
  const source = new EventSource(`/api/stream?lane=${encodeURIComponent(lane)}`);
  source.addEventListener('open', () => {
    retryMs = 1000;
    setConnected(true);
  });
  source.addEventListener('lane', (ev: MessageEvent<string>) => {
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!isKioskSnapshot(data) || data.lane !== lane) return;
    snapshot = data;
    render();
    soundFor(data);
  });
  source.addEventListener('error', () => {
    setConnected(false);
    // EventSource retries by itself while CONNECTING; once CLOSED (e.g. the server
    // answered with an error status) it gives up, so start a new one with backoff.
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  });
}

function tickClock(): void {
  const d = new Date(serverNow());
  el('clock').textContent = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

tickClock();
window.setInterval(tickClock, 10_000);
connect();
