// GD60914 forehead/wrist module, 9600 8N1. Send `A1` once (single-shot mode), then `AB`
// (forehead) or `AC` (wrist; `AA` = object) per reading. The reply is 7 ASCII characters
// read like C atoi(): optional spaces and sign, then digits = the value in 0.1 °C; the
// rest is padding / CR LF. The module has no checksum, so we check the shape strictly.
import type { ByteLink } from '../types.js';
import { DriverError, Framer, type FramerOptions, type ScanResult } from '../transport/framing.js';
import { SerialThermometer, type RawMeasurement, type ThermometerOptions } from './base.js';

export const GD60914_SINGLE = Buffer.from([0xa1]);
export const GD60914_MODE_BYTES = { object: 0xaa, forehead: 0xab, wrist: 0xac } as const;
export type Gd60914Mode = keyof typeof GD60914_MODE_BYTES;
export const GD60914_REPLY_LENGTH = 7;
/** Span the module measures; a value outside it is treated as out of range. */
export const GD60914_RANGE = { min: 0, max: 100 } as const;

/** The module's reply for a value: tenths zero-padded to 5 digits + CR LF, e.g. "00366\r\n". */
export function encodeGd60914Reply(celsius: number): Buffer {
  const tenths = Math.round(celsius * 10);
  const digits = tenths < 0 ? '-' + String(-tenths).padStart(4, '0') : String(tenths).padStart(5, '0');
  return Buffer.from(digits.slice(-5) + '\r\n', 'latin1');
}

/**
 * atoi() over the 7 characters, but strict about the shape (digits, then only padding or
 * CR/LF): the tail of a corrupted reply glued to the next one must not read as a value.
 */
export function parseGd60914Reply(frame: Buffer): number | undefined {
  const m = /^ *([+-]?)(\d{1,6})[ \r\n]*$/.exec(frame.toString('latin1'));
  if (!m || m[2] === undefined) return undefined;
  const tenths = Number.parseInt(m[2], 10) * (m[1] === '-' ? -1 : 1);
  return tenths / 10;
}

function isStart(b: number | undefined): boolean {
  return b === 0x20 || b === 0x2b || b === 0x2d || (b !== undefined && b >= 0x30 && b <= 0x39);
}
function isReplyChar(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x20 && b <= 0x7e) || b === 0x0d || b === 0x0a);
}

/** 7-byte ASCII replies: starts at a space/sign/digit, all bytes printable or CR/LF. */
export class Gd60914Framer extends Framer<Buffer> {
  constructor(options: FramerOptions = {}) {
    super({ ...options, capacity: options.capacity ?? 256 });
  }

  protected scan(buf: Buffer): ScanResult<Buffer> {
    if (!isStart(buf[0])) {
      let next = 1;
      while (next < buf.length && !isStart(buf[next])) next++;
      return { kind: 'skip', count: next };
    }
    const n = Math.min(buf.length, GD60914_REPLY_LENGTH);
    for (let i = 1; i < n; i++) if (!isReplyChar(buf[i])) return { kind: 'bad', reason: 'invalid-frame' };
    if (buf.length < GD60914_REPLY_LENGTH) return { kind: 'need' };
    const frame = Buffer.from(buf.subarray(0, GD60914_REPLY_LENGTH));
    if (parseGd60914Reply(frame) === undefined) return { kind: 'bad', reason: 'invalid-frame' };
    return { kind: 'frame', length: GD60914_REPLY_LENGTH, frame };
  }
}

export interface Gd60914Options extends ThermometerOptions {
  /** Default 'forehead'. */
  mode?: Gd60914Mode;
}

export class Gd60914 extends SerialThermometer<Buffer> {
  readonly mode: Gd60914Mode;

  constructor(link: ByteLink, options: Gd60914Options = {}) {
    super(
      'gd60914',
      link,
      new Gd60914Framer({
        interByteTimeoutMs: options.interByteTimeoutMs ?? 100,
        ...(options.timers ? { timers: options.timers } : {}),
      }),
      options,
    );
    this.mode = options.mode ?? 'forehead';
    if (!(this.mode in GD60914_MODE_BYTES)) {
      throw new DriverError('INVALID_ARGUMENT', `mode must be forehead, wrist or object, got ${String(options.mode)}`, this.type);
    }
  }

  protected override setupCommands(): Buffer[] {
    return [GD60914_SINGLE];
  }

  protected measureCommand(): Buffer {
    return Buffer.from([GD60914_MODE_BYTES[this.mode]]);
  }

  protected decode(frame: Buffer): RawMeasurement | 'out-of-range' | undefined {
    const v = parseGd60914Reply(frame);
    if (v === undefined) return undefined;
    if (v < GD60914_RANGE.min || v > GD60914_RANGE.max) return 'out-of-range';
    return { raw: v, mode: this.mode };
  }
}
