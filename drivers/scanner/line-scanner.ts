// Generic serial line scanner (Honeywell, Newland, Hikvision in USB-COM mode): the code
// bytes followed by a suffix, optionally prefixed by an AIM symbology id (`]Q1` = QR).
// Bytes are passed on as they came: a non-UTF-8 code is the gateway's to refuse.
import type { ByteLink, ScannerDevice } from '../types.js';
import { DelimiterFramer, DriverError, type TimerFns } from '../transport/framing.js';
import { LinkDevice, type DeviceBaseOptions, type DeviceCounters } from './device-base.js';

export type LineSuffix = 'CR' | 'CRLF' | 'LF';

export const SUFFIX_BYTES: Record<LineSuffix, Buffer> = {
  CR: Buffer.from([0x0d]),
  CRLF: Buffer.from([0x0d, 0x0a]),
  LF: Buffer.from([0x0a]),
};

/** Honeywell serial trigger: SYN T CR starts a scan, SYN U CR stops it. */
export const HONEYWELL_TRIGGER = Buffer.from([0x16, 0x54, 0x0d]);
export const HONEYWELL_RELEASE = Buffer.from([0x16, 0x55, 0x0d]);

export interface ScanInfo {
  /** AIM symbology identifier when the scanner sent one, e.g. "]Q1" (QR, model 2). */
  symbology?: string;
}

export interface LineScannerOptions extends DeviceBaseOptions {
  /** Line terminator the scanner is configured for. Default 'CR'. */
  suffix?: LineSuffix;
  /** Strip a leading AIM id (`]` + 2 chars) into ScanInfo.symbology. Default false. */
  aimPrefix?: boolean;
  /** Scanner is in Honeywell serial-trigger mode: trigger()/release() are allowed. Default false. */
  honeywellTrigger?: boolean;
  /** Longest code in bytes (without suffix); longer lines are dropped. Default 1024. */
  maxLength?: number;
  /** Drop a partial line after this many ms of silence. Default 100. */
  interByteTimeoutMs?: number;
  timers?: TimerFns;
}

/** Split a leading AIM id (`]Xn`) from a code. */
export function splitAim(line: Buffer): { payload: Buffer; symbology?: string } {
  if (line.length >= 3 && line[0] === 0x5d /* ] */ && isPrintable(line[1]) && isPrintable(line[2])) {
    return { payload: line.subarray(3), symbology: line.subarray(0, 3).toString('latin1') };
  }
  return { payload: line };
}

function isPrintable(b: number | undefined): boolean {
  return b !== undefined && b >= 0x21 && b <= 0x7e;
}

/** Emits 'scan' (payload: Buffer, info: ScanInfo), 'status', 'discarded', 'fault'. */
export class LineScanner extends LinkDevice<ByteLink> implements ScannerDevice {
  readonly framer: DelimiterFramer;
  readonly #suffix: LineSuffix;
  readonly #aim: boolean;
  readonly #trigger: boolean;
  /** Symbology of the last scan, when AIM ids are on. */
  lastSymbology: string | undefined;

  constructor(link: ByteLink, options: LineScannerOptions = {}) {
    super('line-scanner', link, options);
    this.#suffix = options.suffix ?? 'CR';
    if (!(this.#suffix in SUFFIX_BYTES)) {
      throw new DriverError('INVALID_ARGUMENT', `suffix must be CR, CRLF or LF, got ${String(options.suffix)}`, this.type);
    }
    this.#aim = options.aimPrefix ?? false;
    this.#trigger = options.honeywellTrigger ?? false;
    this.framer = new DelimiterFramer({
      delimiter: SUFFIX_BYTES[this.#suffix],
      maxLength: options.maxLength ?? 1024,
      interByteTimeoutMs: options.interByteTimeoutMs ?? 100,
      ...(options.timers ? { timers: options.timers } : {}),
    });
    this.framer.on('frame', (line) => this.#line(line));
    this.framer.on('discarded', (d) => this.safeEmit('discarded', d));
  }

  get counters(): DeviceCounters {
    return { ...this.framer.counters, ...this.deviceCounters };
  }

  /** Start a scan (Honeywell serial trigger mode only). */
  async trigger(): Promise<void> {
    await this.#command(HONEYWELL_TRIGGER);
  }

  /** Stop a scan started by trigger(). */
  async release(): Promise<void> {
    await this.#command(HONEYWELL_RELEASE);
  }

  async #command(bytes: Buffer): Promise<void> {
    if (!this.#trigger) throw new DriverError('INVALID_ARGUMENT', 'honeywellTrigger is off for this scanner', this.type);
    if (!this.link.isOpen) throw new DriverError('LINK_CLOSED', 'cannot send trigger: link closed', this.type);
    try {
      await this.link.write(bytes);
    } catch (err) {
      throw new DriverError('WRITE_FAILED', `trigger write failed: ${(err as Error).message}`, this.type);
    }
  }

  #line(raw: Buffer): void {
    let line = raw;
    // Tolerate a scanner sending CRLF when CR (or LF) is configured: strip the stray half.
    if (this.#suffix === 'CR' && line[0] === 0x0a) line = line.subarray(1);
    if (this.#suffix === 'LF' && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
    if (line.length === 0) return;
    let info: ScanInfo = {};
    if (this.#aim) {
      const split = splitAim(line);
      line = split.payload;
      if (split.symbology !== undefined) info = { symbology: split.symbology };
      if (line.length === 0) return;
    }
    this.lastSymbology = info.symbology;
    this.safeEmit('scan', Buffer.from(line), info);
  }

  protected onData(chunk: Buffer): void {
    this.framer.push(chunk);
  }

  protected onLinkReset(): void {
    this.framer.reset();
  }

  protected onStop(): void {
    this.framer.dispose();
  }
}
