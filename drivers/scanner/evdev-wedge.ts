// Keyboard-wedge scanners read through Linux evdev. Each event is a struct input_event:
// struct timeval (16 bytes on x86_64/aarch64, 8 on 32-bit) + type u16 + code u16 +
// value s32, little-endian. We take EV_KEY key-downs (value 1), track both shifts and
// caps lock, map keys with the US layout, and end a code at Enter.
import type { ByteLink, ScannerDevice } from '../types.js';
import { defaultTimers, DriverError, FixedFramer, type TimerFns } from '../transport/framing.js';
import { LinkDevice, type DeviceBaseOptions, type DeviceCounters } from './device-base.js';

export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_MSC = 0x04;
export const KEY_ENTER = 28;
export const KEY_KPENTER = 96;
export const KEY_LEFTSHIFT = 42;
export const KEY_RIGHTSHIFT = 54;
export const KEY_CAPSLOCK = 58;

/** Linux key code → [unshifted, shifted] character, US layout. */
export const US_KEYMAP: ReadonlyMap<number, readonly [string, string]> = new Map<number, readonly [string, string]>([
  ...[...'1234567890'].map((c, i) => [2 + i, [c, '!@#$%^&*()'[i] ?? c]] as const),
  [12, ['-', '_']], [13, ['=', '+']], [15, ['\t', '\t']],
  ...[...'qwertyuiop'].map((c, i) => [16 + i, [c, c.toUpperCase()]] as const),
  [26, ['[', '{']], [27, [']', '}']],
  ...[...'asdfghjkl'].map((c, i) => [30 + i, [c, c.toUpperCase()]] as const),
  [39, [';', ':']], [40, ["'", '"']], [41, ['`', '~']], [43, ['\\', '|']],
  ...[...'zxcvbnm'].map((c, i) => [44 + i, [c, c.toUpperCase()]] as const),
  [51, [',', '<']], [52, ['.', '>']], [53, ['/', '?']], [57, [' ', ' ']],
  // keypad (scanners configured for "numeric keypad" digits)
  [55, ['*', '*']], [71, ['7', '7']], [72, ['8', '8']], [73, ['9', '9']], [74, ['-', '-']],
  [75, ['4', '4']], [76, ['5', '5']], [77, ['6', '6']], [78, ['+', '+']], [79, ['1', '1']],
  [80, ['2', '2']], [81, ['3', '3']], [82, ['0', '0']], [83, ['.', '.']], [98, ['/', '/']],
]);

/** Character → [key code, shift] for the simulator and tests. */
export const US_CHARMAP: ReadonlyMap<string, readonly [number, boolean]> = (() => {
  const m = new Map<string, readonly [number, boolean]>();
  for (const [code, [plain, shifted]] of US_KEYMAP) {
    if (code >= 55 && code !== 57) continue; // prefer main-block keys over keypad
    if (!m.has(plain)) m.set(plain, [code, false]);
    if (!m.has(shifted)) m.set(shifted, [code, true]);
  }
  return m;
})();

export interface InputEvent {
  sec: number;
  usec: number;
  type: number;
  code: number;
  value: number;
}

/** Encode one input_event (little-endian). */
export function encodeInputEvent(e: InputEvent, timevalBytes: 16 | 8 = 16): Buffer {
  const b = Buffer.alloc(timevalBytes + 8);
  if (timevalBytes === 16) {
    b.writeBigInt64LE(BigInt(e.sec), 0);
    b.writeBigInt64LE(BigInt(e.usec), 8);
  } else {
    b.writeInt32LE(e.sec, 0);
    b.writeInt32LE(e.usec, 4);
  }
  b.writeUInt16LE(e.type, timevalBytes);
  b.writeUInt16LE(e.code, timevalBytes + 2);
  b.writeInt32LE(e.value, timevalBytes + 4);
  return b;
}

export function decodeInputEvent(b: Buffer, timevalBytes: 16 | 8 = 16): InputEvent {
  const wide = timevalBytes === 16;
  return {
    sec: wide ? Number(b.readBigInt64LE(0)) : b.readInt32LE(0),
    usec: wide ? Number(b.readBigInt64LE(8)) : b.readInt32LE(4),
    type: b.readUInt16LE(timevalBytes),
    code: b.readUInt16LE(timevalBytes + 2),
    value: b.readInt32LE(timevalBytes + 4),
  };
}

/** The events a keyboard sends for one string + Enter (shift pressed around shifted chars). */
export function encodeKeystrokes(text: string, options: { timevalBytes?: 16 | 8; sec?: number; shiftKey?: number } = {}): Buffer {
  const tv = options.timevalBytes ?? 16;
  const sec = options.sec ?? 1_700_000_000;
  const shiftKey = options.shiftKey ?? KEY_LEFTSHIFT;
  const out: Buffer[] = [];
  let usec = 0;
  const ev = (type: number, code: number, value: number): void => {
    out.push(encodeInputEvent({ sec, usec: usec++ % 1_000_000, type, code, value }, tv));
  };
  const press = (code: number): void => {
    ev(EV_MSC, 4, 0x70000 + code); // MSC_SCAN, as real keyboards send before EV_KEY
    ev(EV_KEY, code, 1);
    ev(EV_SYN, 0, 0);
    ev(EV_KEY, code, 0);
    ev(EV_SYN, 0, 0);
  };
  for (const ch of text) {
    const k = US_CHARMAP.get(ch);
    if (!k) throw new DriverError('INVALID_ARGUMENT', `no US key for ${JSON.stringify(ch)}`, 'evdev-wedge');
    if (k[1]) ev(EV_KEY, shiftKey, 1);
    press(k[0]);
    if (k[1]) ev(EV_KEY, shiftKey, 0);
  }
  press(KEY_ENTER);
  return Buffer.concat(out);
}

export interface EvdevWedgeOptions extends DeviceBaseOptions {
  /** Size of struct timeval: 16 on 64-bit kernels (default), 8 on 32-bit ARM. */
  timevalBytes?: 16 | 8;
  /** Drop a code when no key arrives for this long before Enter. Default 300 ms. */
  interKeyTimeoutMs?: number;
  /** Longest code; longer ones are dropped. Default 2048. */
  maxLength?: number;
  timers?: TimerFns;
}


/** Emits 'scan' (payload: Buffer of the typed ASCII), 'status', 'discarded'. */
export class EvdevWedgeScanner extends LinkDevice<ByteLink> implements ScannerDevice {
  readonly framer: FixedFramer;
  readonly #tv: 16 | 8;
  readonly #keyTimeoutMs: number;
  readonly #max: number;
  readonly #timers: TimerFns;
  #chars: string[] = [];
  #overflow = false;
  #leftShift = false;
  #rightShift = false;
  #caps = false;
  #timer: unknown;
  /** Key-downs without a US-layout character (ignored). */
  unknownKeys = 0;
  readonly #codeCounters = { codesDropped: 0 };

  constructor(link: ByteLink, options: EvdevWedgeOptions = {}) {
    super('evdev-wedge', link, options);
    this.#tv = options.timevalBytes ?? 16;
    this.#keyTimeoutMs = options.interKeyTimeoutMs ?? 300;
    this.#max = options.maxLength ?? 2048;
    this.#timers = options.timers ?? defaultTimers;
    this.framer = new FixedFramer({
      start: [],
      length: this.#tv + 8,
      // Records have no marker; a plausible type and microseconds < 1e6 catch misalignment.
      verify: (r) => {
        const e = decodeInputEvent(r, this.#tv);
        return e.type <= 0x1f && e.sec >= 0 && e.usec >= 0 && e.usec < 1_000_000;
      },
      // The kernel hands out whole records, so a partial one still waiting after a pause
      // means we are misaligned: dropping it realigns the stream.
      interByteTimeoutMs: 50,
      ...(options.timers ? { timers: options.timers } : {}),
    });
    this.framer.on('frame', (r) => this.#event(decodeInputEvent(r, this.#tv)));
    this.framer.on('discarded', (d) => this.safeEmit('discarded', d));
  }

  get counters(): DeviceCounters {
    const c = this.framer.counters;
    // Codes dropped on the inter-key timeout count as framing timeouts.
    return { ...c, timeouts: c.timeouts + this.#codeCounters.codesDropped, ...this.deviceCounters };
  }

  #event(e: InputEvent): void {
    if (e.type !== EV_KEY) return;
    if (e.code === KEY_LEFTSHIFT) this.#leftShift = e.value !== 0;
    else if (e.code === KEY_RIGHTSHIFT) this.#rightShift = e.value !== 0;
    if (e.value !== 1) return; // 0 = up, 2 = autorepeat
    if (e.code === KEY_LEFTSHIFT || e.code === KEY_RIGHTSHIFT) return;
    if (e.code === KEY_CAPSLOCK) {
      this.#caps = !this.#caps;
      return;
    }
    if (e.code === KEY_ENTER || e.code === KEY_KPENTER) {
      this.#endCode();
      return;
    }
    const k = US_KEYMAP.get(e.code);
    if (!k) {
      this.unknownKeys++;
      return;
    }
    const shift = this.#leftShift || this.#rightShift;
    const letter = k[0] >= 'a' && k[0] <= 'z';
    const ch = (letter ? shift !== this.#caps : shift) ? k[1] : k[0];
    if (this.#chars.length >= this.#max) this.#overflow = true;
    else this.#chars.push(ch);
    this.#armTimer();
  }

  #endCode(): void {
    this.#clearTimer();
    const text = this.#chars.join('');
    const overflow = this.#overflow;
    this.#chars = [];
    this.#overflow = false;
    if (overflow) {
      this.safeEmit('discarded', { count: text.length, reason: 'too-long', sample: Buffer.from(text.slice(0, 32), 'latin1') });
      return;
    }
    if (text.length === 0) return;
    this.safeEmit('scan', Buffer.from(text, 'latin1'), {});
  }

  #armTimer(): void {
    this.#clearTimer();
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      if (this.#chars.length === 0) return;
      this.#codeCounters.codesDropped++;
      this.safeEmit('discarded', { count: this.#chars.length, reason: 'timeout', sample: Buffer.from(this.#chars.join('').slice(0, 32), 'latin1') });
      this.#chars = [];
      this.#overflow = false;
    }, this.#keyTimeoutMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  protected onData(chunk: Buffer): void {
    this.framer.push(chunk);
  }

  protected onLinkReset(): void {
    this.#clearTimer();
    this.#chars = [];
    this.#overflow = false;
    this.#leftShift = this.#rightShift = false;
    this.framer.reset();
  }

  protected onStop(): void {
    this.#clearTimer();
    this.framer.dispose();
  }
}
