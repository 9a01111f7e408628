// LU90614 (MLX90614 body-temperature module), 9600 8N1. Commands are 3 bytes with a sum
// checksum; the reply is 9 bytes `FE ?? WHOLE HUNDREDTHS ?? ?? ?? ?? SUM`, SUM = low
// byte of the sum of bytes 0..7; `FF FF` in bytes 2-3 = out of range.
import type { ByteLink } from '../types.js';
import { DriverError, FixedFramer, sum8, trailingSum8 } from '../transport/framing.js';
import { SerialThermometer, type RawMeasurement, type ThermometerOptions } from './base.js';

export const LU90614_BODY_MODE = Buffer.from([0xfa, 0xc5, 0xbf]);
export const LU90614_OBJECT_MODE = Buffer.from([0xfa, 0xc6, 0xc0]);
export const LU90614_MEASURE = Buffer.from([0xfa, 0xca, 0xc4]);
export const LU90614_REPLY_LENGTH = 9;

export type Lu90614Mode = 'body' | 'object';

export interface Lu90614Options extends ThermometerOptions {
  /** Body (compensated by the module) or raw object temperature. Default 'body'. */
  mode?: Lu90614Mode;
}

/** A reply frame for a value (undefined = out of range), as the module sends it. */
export function encodeLu90614Reply(celsius: number | undefined, byte1 = 0x00): Buffer {
  const f = Buffer.alloc(LU90614_REPLY_LENGTH);
  f[0] = 0xfe;
  f[1] = byte1;
  if (celsius === undefined) {
    f[2] = 0xff;
    f[3] = 0xff;
  } else {
    const hundredths = Math.round(celsius * 100);
    f[2] = Math.floor(hundredths / 100) & 0xff;
    f[3] = hundredths % 100;
  }
  f[8] = sum8(f.subarray(0, 8));
  return f;
}

/** Decode a verified reply: °C, or 'out-of-range'. */
export function decodeLu90614Reply(frame: Buffer): number | 'out-of-range' | undefined {
  const whole = frame[2];
  const hundredths = frame[3];
  if (whole === undefined || hundredths === undefined) return undefined;
  if (whole === 0xff && hundredths === 0xff) return 'out-of-range';
  if (hundredths > 99) return undefined;
  return whole + hundredths / 100;
}

export function lu90614Framer(options: ThermometerOptions = {}): FixedFramer {
  return new FixedFramer({
    start: [0xfe],
    length: LU90614_REPLY_LENGTH,
    verify: trailingSum8,
    interByteTimeoutMs: options.interByteTimeoutMs ?? 100,
    ...(options.timers ? { timers: options.timers } : {}),
  });
}

export class Lu90614 extends SerialThermometer<Buffer> {
  readonly mode: Lu90614Mode;

  constructor(link: ByteLink, options: Lu90614Options = {}) {
    super('lu90614', link, lu90614Framer(options), options);
    this.mode = options.mode ?? 'body';
  }

  protected override setupCommands(): Buffer[] {
    return [this.mode === 'body' ? LU90614_BODY_MODE : LU90614_OBJECT_MODE];
  }

  protected measureCommand(): Buffer {
    return LU90614_MEASURE;
  }

  protected decode(frame: Buffer): RawMeasurement | 'out-of-range' | undefined {
    const v = decodeLu90614Reply(frame);
    if (v === undefined) {
      this.fault(new DriverError('BAD_REPLY', `hundredths byte ${frame[3]} is above 99`, this.type));
      return undefined;
    }
    return v === 'out-of-range' ? v : { raw: v, mode: this.mode };
  }
}
