// USB HID-POS scanners in the Honeywell report layout (VID 0x0C2E), read through node-hid.
// Input report id 2, after the id: [0] fragment length, [1-3] AIM id, [4-59] data,
// [60] Honeywell code id, [62] non-zero = more fragments follow. A code longer than 56
// bytes arrives in several reports; we reassemble them and strip a trailing CR.
import type { HidLink, ScannerDevice } from '../types.js';
import { defaultTimers, type Discarded, DriverError, type FramerCounters, type TimerFns } from '../transport/framing.js';
import { LinkDevice, type DeviceBaseOptions, type DeviceCounters } from './device-base.js';
import type { ScanInfo } from './line-scanner.js';

export const HONEYWELL_VID = 0x0c2e;
export const HID_POS_REPORT_ID = 0x02;
/** Report body length (without the id) and the data span in it. */
export const HID_POS_REPORT_LENGTH = 63;
export const HID_POS_DATA_OFFSET = 4;
export const HID_POS_DATA_MAX = 56;
export const HID_POS_CODE_ID_OFFSET = 60;
export const HID_POS_MORE_OFFSET = 62;
/** Feature report 0xFE = 0x01 puts Honeywell scanners in HID-POS mode (WebHidBarcodeScanner does the same). */
export const HONEYWELL_HID_POS_ENABLE = Buffer.from([0xfe, 0x01]);

export interface HidPosFragment {
  length: number;
  aim: string;
  data: Buffer;
  codeId: number;
  more: boolean;
}

/** Build one report (report id first, as hidraw delivers it). */
export function encodeHidPosReport(f: { data: Uint8Array; aim?: string; codeId?: number; more?: boolean; length?: number }): Buffer {
  const r = Buffer.alloc(1 + HID_POS_REPORT_LENGTH);
  r[0] = HID_POS_REPORT_ID;
  const body = r.subarray(1);
  const data = f.data.subarray(0, HID_POS_DATA_MAX);
  body[0] = f.length ?? data.length;
  body.write((f.aim ?? ']Q1').padEnd(3, '\0').slice(0, 3), 1, 'latin1');
  body.set(data, HID_POS_DATA_OFFSET);
  body[HID_POS_CODE_ID_OFFSET] = f.codeId ?? 0x73; // 's' = QR in Honeywell ids
  body[HID_POS_MORE_OFFSET] = f.more ? 1 : 0;
  return r;
}

/** Split a code into the reports a scanner sends. */
export function encodeHidPosReports(code: Uint8Array, options: { aim?: string; codeId?: number; fragment?: number } = {}): Buffer[] {
  const size = Math.max(1, Math.min(HID_POS_DATA_MAX, options.fragment ?? HID_POS_DATA_MAX));
  const out: Buffer[] = [];
  for (let at = 0; at < code.length || out.length === 0; at += size) {
    const data = code.subarray(at, at + size);
    out.push(encodeHidPosReport({ data, aim: options.aim ?? ']Q1', codeId: options.codeId ?? 0x73, more: at + size < code.length }));
  }
  return out;
}

export interface HidPosOptions extends DeviceBaseOptions {
  /** Whether reports carry the report id first: 'auto' decides by length (64 = yes). Default 'auto'. */
  reportIdPrefixed?: boolean | 'auto';
  /** Send feature report FE 01 on open (Honeywell). Default true. */
  enableHidPos?: boolean;
  /** Longest reassembled code; longer ones are dropped. Default 4096. */
  maxLength?: number;
  /** Drop a partial code when its next fragment does not come within this time. Default 500 ms. */
  fragmentTimeoutMs?: number;
  timers?: TimerFns;
}


/** Emits 'scan' (payload: Buffer, info: ScanInfo & { codeId }), 'status', 'discarded', 'fault'. */
export class HidPosScanner extends LinkDevice<HidLink> implements ScannerDevice {
  readonly #prefixed: boolean | 'auto';
  readonly #enable: boolean;
  readonly #max: number;
  readonly #timeoutMs: number;
  readonly #timers: TimerFns;
  #parts: Buffer[] = [];
  #partLength = 0;
  #dropping = false;
  #timer: unknown;
  readonly #framing: FramerCounters = { bytesIn: 0, framesOut: 0, bytesDiscarded: 0, badFrames: 0, timeouts: 0 };

  constructor(link: HidLink, options: HidPosOptions = {}) {
    super('hid-pos', link, options);
    this.#prefixed = options.reportIdPrefixed ?? 'auto';
    this.#enable = options.enableHidPos ?? true;
    this.#max = options.maxLength ?? 4096;
    this.#timeoutMs = options.fragmentTimeoutMs ?? 500;
    this.#timers = options.timers ?? defaultTimers;
  }

  get counters(): DeviceCounters {
    return { ...this.#framing, ...this.deviceCounters };
  }

  /** Parse one input report: a fragment, 'other' (another report id) or 'bad' (malformed). */
  parse(report: Buffer): HidPosFragment | 'other' | 'bad' {
    let body = report;
    const prefixed = this.#prefixed === 'auto' ? report.length > HID_POS_REPORT_LENGTH : this.#prefixed;
    if (prefixed) {
      if (report[0] !== HID_POS_REPORT_ID) return 'other';
      body = report.subarray(1);
    }
    if (body.length < HID_POS_MORE_OFFSET + 1) return 'bad';
    const length = body[0] ?? 0;
    if (length > HID_POS_DATA_MAX) return 'bad';
    return {
      length,
      aim: body.subarray(1, 4).toString('latin1'),
      data: Buffer.from(body.subarray(HID_POS_DATA_OFFSET, HID_POS_DATA_OFFSET + length)),
      codeId: body[HID_POS_CODE_ID_OFFSET] ?? 0,
      more: (body[HID_POS_MORE_OFFSET] ?? 0) !== 0,
    };
  }

  protected onData(report: Buffer): void {
    this.#framing.bytesIn += report.length;
    const f = this.parse(report);
    if (f === 'other') {
      this.#discard(report.length, 'no-frame-start', report);
      return;
    }
    if (f === 'bad') {
      this.#framing.badFrames++;
      this.#discard(report.length, 'invalid-frame', report);
      return;
    }
    this.#clearTimer();
    if (this.#dropping) {
      // The rest of an over-long code: drop it up to its last fragment, so its tail
      // never comes out as a code of its own.
      this.#discard(f.data.length, 'too-long', f.data);
      this.#dropping = f.more;
      if (f.more) this.#armTimer();
      return;
    }
    if (this.#partLength + f.data.length > this.#max) {
      this.#discard(this.#partLength + f.data.length, 'too-long', f.data);
      this.#parts = [];
      this.#partLength = 0;
      this.#dropping = f.more;
      if (f.more) this.#armTimer();
      return;
    }
    this.#parts.push(f.data);
    this.#partLength += f.data.length;
    if (f.more) {
      this.#armTimer();
      return;
    }
    let code = Buffer.concat(this.#parts);
    this.#parts = [];
    this.#partLength = 0;
    if (code[code.length - 1] === 0x0d) code = code.subarray(0, -1);
    if (code.length === 0) return;
    this.#framing.framesOut++;
    const aim = f.aim.replace(/\0+$/, '');
    const info: ScanInfo & { codeId: number } = { codeId: f.codeId, ...(aim.startsWith(']') ? { symbology: aim } : {}) };
    this.safeEmit('scan', code, info);
  }

  #dropPartial(reason: Discarded['reason']): void {
    if (this.#partLength > 0) this.#discard(this.#partLength, reason, Buffer.concat(this.#parts));
    this.#parts = [];
    this.#partLength = 0;
  }

  #discard(count: number, reason: Discarded['reason'], sample: Buffer): void {
    this.#framing.bytesDiscarded += count;
    this.safeEmit('discarded', { count, reason, sample: sample.subarray(0, 32) } satisfies Discarded);
  }

  /** The next fragment must come within fragmentTimeoutMs, or the partial code is dropped. */
  #armTimer(): void {
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.#framing.timeouts++;
      this.#dropping = false;
      this.#dropPartial('timeout');
    }, this.#timeoutMs);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  protected override onLinkOpen(): void {
    if (!this.#enable) return;
    this.link.sendFeatureReport(HONEYWELL_HID_POS_ENABLE).catch((err: unknown) => {
      this.fault(new DriverError('WRITE_FAILED', `HID-POS enable feature report failed: ${(err as Error).message}`, this.type));
    });
  }

  protected onLinkReset(): void {
    this.#clearTimer();
    this.#dropping = false;
    this.#dropPartial('reset');
  }

  protected onStop(): void {
    this.#clearTimer();
    this.#parts = [];
    this.#partLength = 0;
  }
}
