// What the kiosk screen shows for a lane snapshot at a given time. Pure and free of
// DOM types so the gateway's tests can check it, and kiosk.ts only has to paint.
//
// The snapshot types mirror gateway/lane/types.ts (the browser cannot import gateway
// code); test/gateway/http checks at compile time that a LaneSnapshot fits them.

export type KioskOutcome = 'admit' | 'refuse' | 'refer';

export interface KioskText {
  zh: string;
  en: string;
}

export interface KioskReason {
  code: string;
  zh: string;
  en: string;
  next?: KioskText;
}

export interface KioskDevice {
  type: string;
  state: 'connected' | 'disconnected' | 'fault';
  since: number;
  detail?: string;
}

export interface KioskDecision {
  eventId: string;
  at: number;
  outcome: KioskOutcome;
  reasons: KioskReason[];
  maskedName: string | null;
  temperature: number | null;
}

export interface KioskSnapshot {
  lane: string;
  name: string;
  state: 'idle' | 'measuring' | 'showing' | 'out-of-service';
  since: number;
  prompt: KioskReason | null;
  last: KioskDecision | null;
  devices: { scanner: KioskDevice; thermometer: KioskDevice; relay: KioskDevice };
  /** On a zone's entry lane: how full it is, with the text to show. */
  zone?: KioskOccupancy;
  /** `off`: access control only; the screen shows no temperature or health wording. */
  healthChecks?: 'off';
}

export interface KioskOccupancy {
  count: number;
  limit: number | null;
  full: boolean;
  text: KioskText;
}

export type DeviceName = keyof KioskSnapshot['devices'];

/** The headline of a decision: admit, refuse, or for a referral who has to act. */
export type Headline = 'admit' | 'refuse' | ReferHeadline;
/** staff: wait for the staff; wait: only wait (a full canteen); self: do it yourself (scan again). */
export type ReferHeadline = 'staff' | 'wait' | 'self';

export type KioskView =
  /** `zone`: how full the lane's zone is (canteen seats), so people see it before they scan. */
  | { kind: 'waiting'; zone: { text: KioskText; full: boolean } | null }
  /** The first "please measure", or (remeasure) "measure again" after an unusable or borderline reading. */
  | { kind: 'measuring' | 'remeasure'; prompt: KioskText }
  | {
      kind: KioskOutcome;
      headline: Headline;
      reasons: KioskReason[];
      maskedName: string | null;
      /** e.g. "36.5 °C" */
      temperature: string | null;
      /** Server epoch ms at which the screen returns to waiting. */
      until: number;
    }
  /** `link`: the kiosk lost its gateway (nothing it shows can be trusted), else `down` devices. */
  | { kind: 'out-of-service'; down: DeviceName[]; link: boolean };

/** Prompts that ask for a second reading: shown amber, unlike the first TEMP_NEEDED. */
export const REMEASURE_CODES: ReadonlySet<string> = new Set(['TEMP_RECHECK', 'TEMP_IMPLAUSIBLE_REMEASURE', 'TEMP_READING_INVALID_REMEASURE']);
/** Referral reasons where the person only waits, with no staff needed. */
export const WAIT_CODES: ReadonlySet<string> = new Set(['ZONE_FULL']);
/** Referral reasons the person fixes alone (the next step says how). */
export const SELF_CODES: ReadonlySet<string> = new Set(['TEMP_TIMEOUT', 'VEHICLE_DRIVER_TIMEOUT', 'VEHICLE_PASS_NOT_HERE']);

/** "Please wait for staff" only when a reason needs the staff; else wait, else do it yourself. */
export function referHeadline(reasons: readonly KioskReason[]): ReferHeadline {
  if (reasons.length === 0 || reasons.some((r) => !WAIT_CODES.has(r.code) && !SELF_CODES.has(r.code))) return 'staff';
  return reasons.some((r) => WAIT_CODES.has(r.code)) ? 'wait' : 'self';
}

/** The screen while the kiosk has no contact with its gateway. */
export const LINK_DOWN_VIEW: KioskView = { kind: 'out-of-service', down: [], link: true };

export const DEFAULT_PROMPT: KioskText = { zh: '请测量体温', en: 'Please measure your temperature' };
/** The same without health checks (a vehicle gate waiting for the driver always sends its own prompt). */
export const ACCESS_ONLY_PROMPT: KioskText = { zh: '请稍候', en: 'Please wait' };

export const DEVICE_NAMES: Record<DeviceName, KioskText> = {
  scanner: { zh: '扫码器', en: 'Code scanner' },
  thermometer: { zh: '测温仪', en: 'Thermometer' },
  relay: { zh: '闸机', en: 'Gate' },
};

/** One decimal, as a thermometer shows it: 36.5 °C. */
export function formatTemperature(celsius: number | null): string | null {
  if (celsius === null || !Number.isFinite(celsius)) return null;
  return `${celsius.toFixed(1)} °C`;
}

/**
 * The screen for `s` at server time `now`. A decision stays up for `resetMs` after it
 * was taken, whatever the lane's own state says, unless the next person is already
 * being measured or the lane is out of service; both of those take the screen at once.
 */
export function viewFor(s: KioskSnapshot, now: number, resetMs: number): KioskView {
  if (s.state === 'out-of-service') {
    const down = (Object.keys(DEVICE_NAMES) as DeviceName[]).filter((d) => s.devices[d].state !== 'connected');
    return { kind: 'out-of-service', down, link: false };
  }
  if (s.state === 'measuring') {
    const p = s.prompt;
    if (p === null) return { kind: 'measuring', prompt: s.healthChecks === 'off' ? ACCESS_ONLY_PROMPT : DEFAULT_PROMPT };
    return { kind: REMEASURE_CODES.has(p.code) ? 'remeasure' : 'measuring', prompt: { zh: p.zh, en: p.en } };
  }
  const last = s.last;
  if (last !== null && (s.state === 'showing' || s.state === 'idle') && now < last.at + resetMs) {
    return {
      kind: last.outcome,
      headline: last.outcome === 'refer' ? referHeadline(last.reasons) : last.outcome,
      reasons: last.reasons,
      maskedName: last.maskedName,
      temperature: s.healthChecks === 'off' ? null : formatTemperature(last.temperature),
      until: last.at + resetMs,
    };
  }
  return { kind: 'waiting', zone: s.zone ? { text: s.zone.text, full: s.zone.full } : null };
}

/**
 * What the kiosk says aloud for `view`: the headline shown (`headlineZh`, read from the
 * page) and, for a refusal or referral, the first reason; the prompt while measuring.
 * Only what the screen shows, minus details in brackets (a temperature, a date, a count),
 * never a name. Null: nothing to say (waiting).
 */
export function spokenText(view: KioskView, headlineZh: string): string | null {
  // Each clause once: 请稍候 + 已满员（3人，限3人），请稍候 → 请稍候，已满员.
  const say = (parts: string[]): string => [
    ...new Set(
      parts
        .flatMap((p) => p.replace(/（[^）]*）|\([^)]*\)/g, '').replace(/℃/g, '度').split('，'))
        .map((p) => p.trim())
        .filter((p) => p !== ''),
    ),
  ].join('，');
  switch (view.kind) {
    case 'waiting':
      return null;
    case 'measuring':
    case 'remeasure':
      return say([view.prompt.zh]);
    case 'out-of-service':
    case 'admit':
      return say([headlineZh]);
    case 'refuse':
    case 'refer':
      return say([headlineZh, view.reasons[0]?.zh ?? '']);
  }
}

/**
 * When to speak again: a new decision, a new prompt, entering out of service. Null while
 * waiting. Equal keys for two snapshots mean the same announcement.
 */
export function announcementKey(view: KioskView, s: KioskSnapshot | null): string | null {
  switch (view.kind) {
    case 'waiting':
      return null;
    case 'measuring':
    case 'remeasure':
      return `m:${s?.since ?? ''}:${view.prompt.zh}`;
    case 'out-of-service':
      return view.link ? 'o:link' : `o:${view.down.join(',')}`;
    default:
      return `d:${s?.last?.eventId ?? ''}`;
  }
}

/** Milliseconds until `view` must be recomputed without a new snapshot; null if never. */
export function msUntilChange(view: KioskView, now: number): number | null {
  if (view.kind === 'admit' || view.kind === 'refuse' || view.kind === 'refer') return Math.max(0, view.until - now);
  return null;
}

/** Structural check of what arrives over the wire, so a bad message is ignored, not painted. */
export function isKioskSnapshot(x: unknown): x is KioskSnapshot {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  const devices = s['devices'];
  return (
    typeof s['lane'] === 'string' &&
    typeof s['name'] === 'string' &&
    (s['state'] === 'idle' || s['state'] === 'measuring' || s['state'] === 'showing' || s['state'] === 'out-of-service') &&
    typeof s['since'] === 'number' &&
    (s['prompt'] === null || typeof s['prompt'] === 'object') &&
    (s['last'] === null || isDecision(s['last'])) &&
    typeof devices === 'object' &&
    devices !== null &&
    (Object.keys(DEVICE_NAMES) as DeviceName[]).every((d) => isDevice((devices as Record<string, unknown>)[d])) &&
    (s['zone'] === undefined || isOccupancy(s['zone'])) &&
    (s['healthChecks'] === undefined || s['healthChecks'] === 'off')
  );
}

function isOccupancy(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const z = x as Record<string, unknown>;
  const text = z['text'] as Record<string, unknown> | null | undefined;
  return typeof z['full'] === 'boolean' && typeof text === 'object' && text !== null && typeof text['zh'] === 'string' && typeof text['en'] === 'string';
}

function isDecision(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const d = x as Record<string, unknown>;
  return (
    typeof d['at'] === 'number' &&
    (d['outcome'] === 'admit' || d['outcome'] === 'refuse' || d['outcome'] === 'refer') &&
    Array.isArray(d['reasons']) &&
    (d['maskedName'] === null || typeof d['maskedName'] === 'string') &&
    (d['temperature'] === null || typeof d['temperature'] === 'number')
  );
}

function isDevice(x: unknown): boolean {
  return typeof x === 'object' && x !== null && typeof (x as Record<string, unknown>)['state'] === 'string';
}

/**
 * Speech (kiosk-voice.ts): Mandarin voices, best first: mainland Chinese, then any Mandarin
 * (espeak-ng through speech-dispatcher lists "cmn" and "cmn-latn-pinyin"), then Taiwan's.
 * Never Cantonese (yue, zh-HK) or Hakka (hak).
 */
const PREFERENCE: readonly RegExp[] = [/^zh-cn$/, /^zh-hans/, /^cmn$/, /^cmn-/, /^zh$/, /^zh-tw$/];

/** The voice to speak Chinese with, or null. */
export function pickVoice<V extends { lang: string }>(voices: readonly V[]): V | null {
  const norm = (v: V): string => v.lang.replaceAll('_', '-').toLowerCase();
  for (const p of PREFERENCE) {
    const found = voices.find((v) => p.test(norm(v)));
    if (found !== undefined) return found;
  }
  return null;
}
