// A Modbus RTU relay board on the device end of a link, in either profile. It answers
// exactly like the boards of devices.md, times its own pulses, and records every frame
// and pulse it received so tests can assert the exact bytes.
import { ByteSim, type SimLink, type SimOptions } from '../scanner/sim-base.js';
import { withModbusCrc } from '../transport/framing.js';
import { COIL_OFF, COIL_ON, FC, FLASH_BASE, ModbusFramer, REG_CLOSE, REG_OPEN, REG_TIMED, type ModbusProfile } from './modbus-frames.js';

export interface RelayPulseRecord {
  at: number;
  channel: number;
  ms: number;
}

export interface ModbusRelaySimOptions extends SimOptions {
  address?: number;
  profile: ModbusProfile;
  channels?: number;
  now?: () => number;
}

export class ModbusRelaySim extends ByteSim {
  readonly address: number;
  readonly profile: ModbusProfile;
  /** Relay states, index 0 = channel 1. */
  readonly relays: boolean[];
  /** Every valid request frame received, in order. */
  readonly frames: Buffer[] = [];
  /** Timed opens received (device-timed pulses). */
  readonly pulses: RelayPulseRecord[] = [];
  readonly #framer: ModbusFramer;
  readonly #now: () => number;
  readonly #timers = new Map<number, NodeJS.Timeout>();

  constructor(link: SimLink, options: ModbusRelaySimOptions) {
    super(`modbus-relay-${options.profile}`, link, options);
    this.address = options.address ?? 1;
    this.profile = options.profile;
    this.relays = Array.from({ length: options.channels ?? 8 }, () => false);
    this.#now = options.now ?? Date.now;
    this.#framer = new ModbusFramer({ direction: 'request', address: this.address });
    this.#framer.on('frame', (f) => void this.#handle(f));
  }

  override stop(): void {
    super.stop();
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#framer.dispose();
  }

  protected onCommandBytes(chunk: Buffer): void {
    this.#framer.push(chunk);
  }

  async #handle(req: Buffer): Promise<void> {
    this.frames.push(req);
    this.emit('frame', req);
    const fc = req[1]!;
    const field = req.readUInt16BE(2);
    const value = req.readUInt16BE(4);
    if (fc === FC.readCoils && this.profile === 'coils') {
      const bytes = Buffer.alloc(Math.ceil(value / 8));
      for (let i = 0; i < value; i++) if (this.relays[field + i]) bytes[i >> 3]! |= 1 << (i & 7);
      return this.#reply(Buffer.concat([Buffer.from([this.address, fc, bytes.length]), bytes]));
    }
    if (fc === FC.readHolding && this.profile === 'registers') {
      const regs = Buffer.alloc(value * 2);
      for (let i = 0; i < value; i++) regs.writeUInt16BE(this.relays[field - 1 + i] ? 1 : 0, i * 2);
      return this.#reply(Buffer.concat([Buffer.from([this.address, fc, regs.length]), regs]));
    }
    if (fc === FC.writeCoil && this.profile === 'coils') {
      if (field >= FLASH_BASE && field - FLASH_BASE < this.relays.length) {
        this.#pulse(field - FLASH_BASE + 1, value * 100);
        return this.#echo(req);
      }
      if (field < this.relays.length && (value === COIL_ON || value === COIL_OFF)) {
        this.#set(field + 1, value === COIL_ON);
        return this.#echo(req);
      }
      return this.#exception(fc, 0x02);
    }
    if (fc === FC.writeRegister && this.profile === 'registers') {
      if (field < 1 || field > this.relays.length) return this.#exception(fc, 0x02);
      const cmd = value & 0xff00;
      if (cmd === REG_OPEN) this.#set(field, true);
      else if (cmd === REG_CLOSE) this.#set(field, false);
      else if (cmd === REG_TIMED) this.#pulse(field, (value & 0xff) * 1000);
      else return this.#exception(fc, 0x03);
      return this.#echo(req);
    }
    return this.#exception(fc, 0x01);
  }

  #set(channel: number, on: boolean): void {
    const t = this.#timers.get(channel);
    if (t) clearTimeout(t);
    this.#timers.delete(channel);
    this.relays[channel - 1] = on;
  }

  #pulse(channel: number, ms: number): void {
    this.#set(channel, true);
    this.pulses.push({ at: this.#now(), channel, ms });
    this.emit('pulse', { channel, ms });
    const t = setTimeout(() => {
      this.#timers.delete(channel);
      this.relays[channel - 1] = false;
    }, ms);
    t.unref?.();
    this.#timers.set(channel, t);
  }

  #echo(req: Buffer): Promise<void> {
    return this.sendFrame(req, 2);
  }

  #reply(body: Buffer): Promise<void> {
    return this.sendFrame(withModbusCrc(body), 2);
  }

  #exception(fc: number, code: number): Promise<void> {
    return this.#reply(Buffer.from([this.address, fc | 0x80, code]));
  }
}
