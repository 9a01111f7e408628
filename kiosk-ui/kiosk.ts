// The kiosk screen: follows one lane's snapshots over server-sent events and paints
// the matching view. All text from the server goes in through textContent only.
// Read from 2 m in about 2 seconds: a refusal fits every reason on the screen (fitDecision),
// the screen says "out of service" when it loses its gateway, and it speaks (kiosk-voice.ts).
import {
  DEVICE_NAMES,
  LINK_DOWN_VIEW,
  announcementKey,
  isKioskSnapshot,
  msUntilChange,
  spokenText,
  viewFor,
  type KioskReason,
  type KioskSnapshot,
  type KioskView,
} from './kiosk-view.js';
import { announce, startVoice } from './kiosk-voice.js';

const body = document.body;
const lane = body.dataset['lane'] ?? '';
const resetMs = Number(body.dataset['resetMs']) || 5000;
// The decision time comes from the gateway's clock; a kiosk on another machine may
// disagree, so measure the difference once against the time the page was rendered.
const serverNowAtLoad = Number(body.dataset['serverNow']);
const clockOffset = Number.isFinite(serverNowAtLoad) ? serverNowAtLoad - Date.now() : 0;
const serverNow = (): number => Date.now() + clockOffset;

/** Without its gateway this long, the kiosk says "out of service" rather than invite scans. */
const LINK_GRACE_MS = 3000;
const MAX_RETRY_MS = 5000;

let snapshot: KioskSnapshot | null = null;
let current: KioskView | null = null;
let repaintTimer: number | undefined;
/** The last announcement made; undefined until the first view after loading (which says nothing). */
let announced: string | null | undefined;

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

// ---- fitting a refusal or referral to the screen ----
// Layouts from roomy to dense, each at shrinking scales (font sizes have pixel floors, so
// on a small panel the scales soon stop mattering): the first that fits wins.
// roomy: verdict stacked, every reason with its English and its next step on own lines;
// inline: English right after the Chinese (wraps when long); compact: the verdict on one
// line, only the first next step (of the most important reason that has one); minimal:
// English only for the first reason. If even that overflows, the last reasons fold into
// one line "另有N项原因，请联系工作人员"; the first reason is never folded.
const FIT_LEVELS = ['roomy', 'inline', 'compact', 'minimal'] as const;
const FIT_SCALES = [1, 0.85, 0.7, 0.55] as const;

function fits(section: HTMLElement): boolean {
  const screen = el('screen');
  const cs = getComputedStyle(screen);
  const room = screen.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
  return section.scrollHeight <= room + 0.5 && section.scrollWidth <= section.clientWidth + 0.5;
}

function moreItem(n: number): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'more';
  const fill = (t: string | undefined): string => (t ?? '').replaceAll('{n}', String(n));
  li.append(bilingual('p', fill(body.dataset['moreZh']), fill(body.dataset['moreEn']), 'reason'));
  return li;
}

function fitDecision(section: HTMLElement, list: HTMLElement, reasons: readonly KioskReason[]): void {
  const items = reasons.map(reasonItem);
  // The one next step the dense layouts keep: the first there is (the first reason may have none).
  items.find((li) => li.querySelector('.next') !== null)?.querySelector('.next')?.classList.add('lead');
  list.replaceChildren(...items);
  // For tests: the screen size the layout was fitted to.
  section.dataset['fittedTo'] = `${window.innerWidth}x${window.innerHeight}`;
  const tryLayouts = (): boolean => {
    for (const level of FIT_LEVELS) {
      for (const k of FIT_SCALES) {
        section.dataset['fit'] = level;
        section.style.setProperty('--k', String(k));
        if (fits(section)) return true;
      }
    }
    return false;
  };
  if (tryLayouts()) return;
  // Still too much: fold the last reasons, keeping the first whatever happens.
  for (let shown = items.length - 1; shown >= 1; shown--) {
    list.replaceChildren(...items.slice(0, shown), moreItem(items.length - shown));
    if (fits(section)) return;
  }
}

function refit(): void {
  if (current !== null && (current.kind === 'refuse' || current.kind === 'refer')) paint(current);
}

function headlineOf(kind: string): string {
  const h1 = document.querySelector(`[data-view-of="${kind}"] h1.zh`);
  let text = '';
  for (const n of h1?.childNodes ?? []) {
    if (n instanceof HTMLElement && (n.hidden || n.getAttribute('aria-hidden') === 'true')) continue;
    text += n.textContent ?? '';
  }
  return text.trim();
}

function paint(view: KioskView): void {
  current = view;
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
    case 'remeasure':
      el(view.kind === 'measuring' ? 'prompt-zh' : 'remeasure-zh').textContent = view.prompt.zh;
      el(view.kind === 'measuring' ? 'prompt-en' : 'remeasure-en').textContent = view.prompt.en;
      break;
    case 'admit':
      fillPerson(view.kind, view.maskedName, view.temperature);
      break;
    case 'refuse':
    case 'refer': {
      fillPerson(view.kind, view.maskedName, view.temperature);
      const section = document.querySelector<HTMLElement>(`[data-view-of="${view.kind}"]`);
      if (section === null) throw new Error(`kiosk page lacks the ${view.kind} view`);
      section.dataset['headline'] = view.headline;
      for (const h of section.querySelectorAll<HTMLElement>('[data-headline-of]')) h.hidden = h.dataset['headlineOf'] !== view.headline;
      fitDecision(section, el(`${view.kind}-reasons`), view.reasons);
      break;
    }
    case 'out-of-service':
      el('oos-devices-hint').hidden = view.link;
      el('oos-link-hint').hidden = !view.link;
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

/** Speaks (or sounds) each new decision, prompt and "out of service" once, as it appears. */
function announceView(view: KioskView): void {
  const key = announcementKey(view, snapshot);
  if (announced === undefined || key === announced) {
    announced = key;
    return;
  }
  announced = key;
  if (key === null) return;
  const tone = view.kind === 'admit' || view.kind === 'refuse' || view.kind === 'refer' ? view.kind : null;
  const did = announce(spokenText(view, headlineOf(view.kind)), tone);
  if (did === 'tone') body.dataset['tone'] = `${view.kind}:${snapshot?.last?.eventId ?? ''}`;
}

function show(view: KioskView): void {
  paint(view);
  announceView(view);
}

function render(): void {
  window.clearTimeout(repaintTimer);
  if (snapshot === null) return;
  const now = serverNow();
  const view = viewFor(snapshot, now, resetMs);
  show(view);
  // Return to waiting by itself when the decision's time is up, even with no new event.
  const wait = msUntilChange(view, now);
  if (wait !== null) repaintTimer = window.setTimeout(render, wait + 20);
}

// ---- the link to the gateway ----
let linkTimer: number | undefined;

let source: EventSource | null = null;

/**
 * Unless the stream says something within LINK_GRACE_MS (the gateway sends `alive` every
 * second), go out of service: covers a broken connection and a gateway that hangs with it
 * open. Then a fresh connection is tried, whose first events are the lane's snapshot.
 */
function watchLink(): void {
  if (linkTimer !== undefined) return;
  linkTimer = window.setTimeout(() => {
    linkTimer = undefined;
    // What the last snapshot said (a count, "please show your pass") is no longer true.
    snapshot = null;
    window.clearTimeout(repaintTimer);
    show(LINK_DOWN_VIEW);
    // A stream that is open but silent is given up; one already closed has its retry queued.
    if (source !== null) {
      source.close();
      source = null;
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  }, LINK_GRACE_MS);
}

/** Something came from the gateway: it is alive for another LINK_GRACE_MS. */
function heard(): void {
  linkUp();
  watchLink();
}

function linkUp(): void {
  window.clearTimeout(linkTimer);
  linkTimer = undefined;
}

let retryMs = 1000;

function connect(): void {
  watchLink();
  const es = new EventSource(`/api/stream?lane=${encodeURIComponent(lane)}`);
  source = es;
  es.addEventListener('open', () => {
    retryMs = 1000;
    heard();
    el('conn').hidden = true;
  });
  es.addEventListener('alive', heard);
  es.addEventListener('lane', (ev: MessageEvent<string>) => {
    heard();
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (!isKioskSnapshot(data) || data.lane !== lane) return;
    snapshot = data;
    // Health checks off: kiosk.css hides the health reminder (the switch may come at any time).
    body.dataset['healthChecks'] = data.healthChecks ?? 'on';
    render();
  });
  es.addEventListener('error', () => {
    if (source !== es) return; // one given up on by the silence timer
    el('conn').hidden = false;
    watchLink();
    // EventSource retries by itself while CONNECTING; once CLOSED (e.g. the server
    // answered with an error status) it gives up, so start a new one with backoff.
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      source = null;
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  });
}

function tickClock(): void {
  const d = new Date(serverNow());
  el('clock').textContent = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// The font's slices load on first use; ask now for those of every fixed text on the page
// (hidden views included) so the first refusal does not flash in a fallback font. Text that
// fonts load later (a masked name) triggers a refit, as the glyphs' widths change.
function preloadFont(): void {
  // Plus what decisions add to it: temperatures (36.5 °C, 体温偏高（37.6℃）) and masks (张*).
  const text = `${body.textContent ?? ''}0123456789.*°℃（），`;
  for (const weight of ['400', '700']) void document.fonts.load(`${weight} 32px "Noto Sans SC"`, text).catch(() => undefined);
  document.fonts.addEventListener('loadingdone', refit);
}

preloadFont();
window.addEventListener('resize', refit);
startVoice();
tickClock();
window.setInterval(tickClock, 10_000);
connect();
