// MLX90614 serial boards speaking the "66 66" protocol (CJMCU / GY modules). Reply:
// `66 66 MODE 04 T1H T1L T2H T2L SUM`, temperatures signed big-endian in 0.01 °C,
// T1 ambient, T2 object; SUM = low byte of the sum of bytes 0..7 (same rule as the
// LU90614; the boards' sheets say "checksum" without more). Commands `66 66 CMD 56`:
// 01 continuous output, 02 query one reading.
import type { ByteLink } from '../types.js';
import { FixedFramer, sum8, trailingSum8 } from '../transport/framing.js';
import { SerialThermometer, type RawMeasurement, type ThermometerOptions } from './base.js';

export const MLX66_CONTINUOUS = Buffer.from([0x66, 0x66, 0x01, 0x56]);
export const MLX66_QUERY = Buffer.from([0x66, 0x66, 0x02, 0x56]);
export const MLX66_REPLY_LENGTH = 9;
/** MLX90614 object range per the Melexis datasheet; outside it the value is not a measurement. */
export const MLX_OBJECT_RANGE = { min: -70, max: 380 } as const;

export function encodeMlx66Reply(ambientC: number, objectC: number, mode = 0x02): Buffer {
  const f = Buffer.alloc(MLX66_REPLY_LENGTH);
  f[0] = 0x66;
  f[1] = 0x66;
  f[2] = mode & 0xff;
  f[3] = 0x04;
  f.writeInt16BE(toCentiInt16(ambientC), 4);
  f.writeInt16BE(toCentiInt16(objectC), 6);
  f[8] = sum8(f.subarray(0, 8));
  return f;
}

/** 0.01 °C in a signed 16-bit field; values beyond it saturate to the 0x7FFF / 0x8000 sentinels. */
function toCentiInt16(c: number): number {
  return Math.max(-0x8000, Math.min(0x7fff, Math.round(c * 100)));
}

export function decodeMlx66Reply(frame: Buffer): { mode: number; ambient: number; object: number } {
  return { mode: frame[2] ?? 0, ambient: frame.readInt16BE(4) / 100, object: frame.readInt16BE(6) / 100 };
}

export interface Mlx66Options extends ThermometerOptions {
  /** Ask the board to stream readings (01) instead of answering queries (02). Default false. */
  continuous?: boolean;
}

export function mlx66Framer(options: ThermometerOptions = {}): FixedFramer {
  return new FixedFramer({
    start: [0x66, 0x66],
    length: MLX66_REPLY_LENGTH,
    // Byte 3 is the data length (4): checking it too makes false starts rarer.
    verify: (f) => f[3] === 0x04 && trailingSum8(f),
    interByteTimeoutMs: options.interByteTimeoutMs ?? 100,
    ...(options.timers ? { timers: options.timers } : {}),
  });
}

export class Mlx90614Board extends SerialThermometer<Buffer> {
  readonly continuous: boolean;

  constructor(link: ByteLink, options: Mlx66Options = {}) {
    super('mlx90614-66', link, mlx66Framer(options), options);
    this.continuous = options.continuous ?? false;
  }

  protected override setupCommands(): Buffer[] {
    return this.continuous ? [MLX66_CONTINUOUS] : [];
  }

  protected override acceptsUnsolicited(): boolean {
    return this.continuous;
  }

  protected measureCommand(): Buffer {
    return MLX66_QUERY;
  }

  protected decode(frame: Buffer): RawMeasurement | 'out-of-range' {
    const r = decodeMlx66Reply(frame);
    // Saturated fields (0x7FFF / 0x8000) and values outside the sensor span are not measurements.
    const saturated = r.object >= 327.67 || r.object <= -327.68;
    if (saturated || r.object < MLX_OBJECT_RANGE.min || r.object > MLX_OBJECT_RANGE.max) return 'out-of-range';
    // The board reports the raw object temperature: no body compensation inside.
    return { raw: r.object, mode: 'object', ambient: r.ambient };
  }
}
