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
}

export interface KioskOccupancy {
  count: number;
  limit: number | null;
  full: boolean;
  text: KioskText;
}

export type DeviceName = keyof KioskSnapshot['devices'];

export type KioskView =
  /** `zone`: how full the lane's zone is (canteen seats), so people see it before they scan. */
  | { kind: 'waiting'; zone: { text: KioskText; full: boolean } | null }
  | { kind: 'measuring'; prompt: KioskText }
  | {
      kind: KioskOutcome;
      reasons: KioskReason[];
      maskedName: string | null;
      /** e.g. "36.5 °C" */
      temperature: string | null;
      /** Server epoch ms at which the screen returns to waiting. */
      until: number;
    }
  | { kind: 'out-of-service'; down: DeviceName[] };

export const DEFAULT_PROMPT: KioskText = { zh: '请测量体温', en: 'Please measure your temperature' };

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
    return { kind: 'out-of-service', down };
  }
  if (s.state === 'measuring') {
    const p = s.prompt;
    return { kind: 'measuring', prompt: p === null ? DEFAULT_PROMPT : { zh: p.zh, en: p.en } };
  }
  const last = s.last;
  if (last !== null && (s.state === 'showing' || s.state === 'idle') && now < last.at + resetMs) {
    return {
      kind: last.outcome,
      reasons: last.reasons,
      maskedName: last.maskedName,
      temperature: formatTemperature(last.temperature),
      until: last.at + resetMs,
    };
  }
  return { kind: 'waiting', zone: s.zone ? { text: s.zone.text, full: s.zone.full } : null };
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
    (s['zone'] === undefined || isOccupancy(s['zone']))
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
