// GM65 / GM805 simulator: parses `7E 00 T L AH AL DATA CRC|ABCD` commands, keeps a
// register map, acknowledges writes with `02 00 00 01 00 33 31`, answers reads, and
// sends presented codes + CR (at once, or on a trigger when in command mode).
import { crc16Xmodem, Framer, type ScanResult } from '../transport/framing.js';
import { ByteSim, type SimLink, type SimOptions } from './sim-base.js';
import {
  encodeGm65Response,
  GM65_MODE_BITS,
  GM65_MODE_REGISTER,
  GM65_READ,
  GM65_SAVE,
  GM65_TRIGGER_REGISTER,
  GM65_WRITE,
  type Gm65Mode,
} from './gm65.js';

export interface Gm65Command {
  type: number;
  address: number;
  data: Buffer;
  /** 'crc' or 'none' (AB CD). */
  check: 'crc' | 'none';
}

/** Device-side command framer: `7E 00 T L AH AL DATA(L) CRC2`, CRC or AB CD. */
export class Gm65CommandFramer extends Framer<Gm65Command> {
  protected scan(buf: Buffer): ScanResult<Gm65Command> {
    if (buf[0] !== 0x7e) {
      const next = buf.indexOf(0x7e, 1);
      return { kind: 'skip', count: next < 0 ? buf.length : next };
    }
    if (buf.length < 2) return { kind: 'need' };
    if (buf[1] !== 0x00) return { kind: 'bad', reason: 'invalid-frame' };
    if (buf.length < 6) return { kind: 'need' };
    const total = 6 + (buf[3] ?? 0) + 2;
    if (buf.length < total) return { kind: 'need' };
    const body = buf.subarray(2, total - 2);
    const hi = buf[total - 2];
    const lo = buf[total - 1];
    const crc = crc16Xmodem(body);
    const check = hi === 0xab && lo === 0xcd ? 'none' : hi === crc >> 8 && lo === (crc & 0xff) ? 'crc' : undefined;
    if (check === undefined) return { kind: 'bad' };
    return {
      kind: 'frame',
      length: total,
      frame: {
        type: body[0] ?? 0,
        address: ((body[2] ?? 0) << 8) | (body[3] ?? 0),
        data: Buffer.from(body.subarray(4)),
        check,
      },
    };
  }
}

export interface Gm65SimOptions extends SimOptions {
  /** Initial mode (register 0x0000 bits 1:0). Default 'continuous' (codes sent at once). */
  mode?: Gm65Mode;
}

export class Gm65Sim extends ByteSim {
  readonly registers = new Map<number, number>();
  readonly commands: Gm65Command[] = [];
  readonly #rx = new Gm65CommandFramer({ interByteTimeoutMs: 0 });
  #held: Buffer | undefined;
  #armed = false;
  saves = 0;

  constructor(link: SimLink, options: Gm65SimOptions = {}) {
    super('gm65', link, options);
    this.registers.set(GM65_MODE_REGISTER, 0b1101_0100 | GM65_MODE_BITS[options.mode ?? 'continuous']);
    this.#rx.on('frame', (c) => this.#command(c));
  }

  get mode(): Gm65Mode {
    const bits = (this.registers.get(GM65_MODE_REGISTER) ?? 0) & 0b11;
    return (Object.keys(GM65_MODE_BITS) as Gm65Mode[]).find((m) => GM65_MODE_BITS[m] === bits) ?? 'manual';
  }

  /** Wire bytes of one scanned code. */
  encode(code: string | Buffer): Buffer {
    return Buffer.concat([typeof code === 'string' ? Buffer.from(code, 'utf8') : code, Buffer.from([0x0d])]);
  }

  /** Put a code in front of the module: sent now, or on the next trigger in command mode. */
  async present(code: string | Buffer): Promise<void> {
    const bytes = this.encode(code);
    if (this.mode === 'command' && !this.#armed) {
      this.#held = bytes;
      return;
    }
    this.#armed = false;
    await this.sendFrame(bytes, 0);
  }

  protected onCommandBytes(chunk: Buffer): void {
    this.#rx.push(chunk);
  }

  #command(c: Gm65Command): void {
    this.commands.push(c);
    void this.#answer(c);
  }

  async #answer(c: Gm65Command): Promise<void> {
    switch (c.type) {
      case GM65_READ: {
        const n = Math.max(1, c.data[0] ?? 1);
        const values: number[] = [];
        for (let i = 0; i < n; i++) values.push(this.registers.get(c.address + i) ?? 0);
        await this.sendFrame(encodeGm65Response(values), 2);
        return;
      }
      case GM65_WRITE: {
        c.data.forEach((v, i) => this.registers.set(c.address + i, v));
        await this.sendFrame(encodeGm65Response([0x00]), 2);
        if (c.address === GM65_TRIGGER_REGISTER && (c.data[0] ?? 0) & 1) {
          this.registers.set(GM65_TRIGGER_REGISTER, 0);
          if (this.#held) {
            const held = this.#held;
            this.#held = undefined;
            await this.sendFrame(held, 0);
          } else this.#armed = true;
        }
        return;
      }
      case GM65_SAVE:
        this.saves++;
        await this.sendFrame(encodeGm65Response([0x00]), 2);
        return;
      default:
        return;
    }
  }
}
