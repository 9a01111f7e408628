// Modbus RTU relay board on a serial link, in one of two profiles (devices.md):
// "coils" (Waveshare-style, device-timed flash) or "registers" (R413D08-style, 06SS
// timed open). The pulse is always timed by the board, so the gate closes even if the
// gateway dies mid-pulse.
import { DriverError, type Discarded } from '../transport/framing.js';
import type { ByteLink } from '../types.js';
import { RelayBase } from './base.js';
import {
  coilFlash,
  coilWrite,
  ModbusFramer,
  readCoils,
  readRegisters,
  REG_CLOSE,
  registerCommand,
  registerTimedOpen,
  type ModbusProfile,
} from './modbus-frames.js';

export interface ModbusRelayOptions {
  /** Slave address 1..247. */
  address: number;
  /** Relay channel, 1-based. */
  channel: number;
  profile: ModbusProfile;
  /** How long to wait for a reply (ms). */
  replyTimeoutMs?: number;
  /** Baud rate of the bus: sets the 3.5-character silence between frames. */
  baudRate?: number;
  pollMs?: number;
  now?: () => number;
}

interface Pending {
  expectFc: number;
  resolve: (frame: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class ModbusRelay extends RelayBase {
  readonly #link: ByteLink;
  readonly #o: Required<Omit<ModbusRelayOptions, 'now' | 'pollMs'>>;
  readonly #framer: ModbusFramer;
  readonly #silenceMs: number;
  #pending: Pending | null = null;
  #lastBusAt = 0;
  readonly #onData = (d: Buffer) => {
    this.#lastBusAt = Date.now();
    this.#framer.push(d);
  };

  constructor(link: ByteLink, options: ModbusRelayOptions) {
    super(link, { type: 'modbus-relay', ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }), ...(options.now ? { now: options.now } : {}) });
    if (!Number.isInteger(options.address) || options.address < 1 || options.address > 247) {
      throw new DriverError('INVALID_ARGUMENT', `address must be 1..247, got ${options.address}`, 'modbus-relay');
    }
    if (!Number.isInteger(options.channel) || options.channel < 1 || options.channel > 255) {
      throw new DriverError('INVALID_ARGUMENT', `channel must be 1..255, got ${options.channel}`, 'modbus-relay');
    }
    this.#link = link;
    this.#o = { replyTimeoutMs: 300, baudRate: 9600, ...options };
    // 3.5 characters of 11 bits each, at least 2 ms so a fast bus still gets a gap.
    this.#silenceMs = Math.max(2, Math.ceil((3.5 * 11 * 1000) / this.#o.baudRate));
    this.#framer = new ModbusFramer({ direction: 'reply', address: this.#o.address });
    this.#framer.on('frame', (f) => this.#onFrame(f));
    this.#framer.on('discarded', (d: Discarded) => this.emit('discarded', d));
  }

  /** Discarded bytes and bad frames of the reply framer, for /healthz. */
  get counters() {
    return this.#framer.counters;
  }

  override async start(): Promise<void> {
    this.#link.on('data', this.#onData);
    await super.start();
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.#link.off('data', this.#onData);
    this.#framer.dispose();
  }

  protected sendPulse(ms: number): Promise<void> {
    const { address, channel, profile } = this.#o;
    const frame = profile === 'coils' ? coilFlash(address, channel, ms) : registerTimedOpen(address, channel, ms);
    return this.#transact(frame, 'timed open').then((reply) => this.#expectEcho(frame, reply, 'timed open'));
  }

  protected sendAllOff(): Promise<void> {
    const { address, channel, profile } = this.#o;
    const frame = profile === 'coils' ? coilWrite(address, channel, false) : registerCommand(address, channel, REG_CLOSE);
    return this.#transact(frame, 'off').then((reply) => this.#expectEcho(frame, reply, 'off'));
  }

  protected async probe(): Promise<void> {
    await this.readState();
  }

  /** Relay states, index 0 = channel 1. */
  async readState(): Promise<boolean[]> {
    const { address, profile } = this.#o;
    const frame = profile === 'coils' ? readCoils(address) : readRegisters(address);
    const reply = await this.#transact(frame, 'status');
    const n = reply[2] ?? 0;
    const data = reply.subarray(3, 3 + n);
    if (profile === 'coils') return Array.from({ length: 8 }, (_, i) => (((data[i >> 3] ?? 0) >> (i & 7)) & 1) === 1);
    return Array.from({ length: n >> 1 }, (_, i) => data.readUInt16BE(i * 2) !== 0);
  }

  protected override onLinkDown(): void {
    this.#framer.reset();
    this.#fail(new DriverError('LINK_CLOSED', 'link closed while waiting for a reply', this.#where()));
  }

  #where(): string {
    return `modbus-relay @${this.#o.address}`;
  }

  #expectEcho(sent: Buffer, reply: Buffer, what: string): void {
    if (!reply.equals(sent)) throw new DriverError('BAD_REPLY', `${what}: expected the echo ${sent.toString('hex')}, got ${reply.toString('hex')}`, this.#where());
  }

  async #transact(frame: Buffer, what: string): Promise<Buffer> {
    if (this.#pending) throw new DriverError('INVALID_ARGUMENT', 'a request is already in flight', this.#where());
    const gap = this.#lastBusAt + this.#silenceMs - Date.now();
    if (gap > 0) await new Promise((r) => setTimeout(r, gap));
    const fc = frame[1]!;
    const reply = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = null;
        const bad = this.#framer.counters.badFrames;
        reject(new DriverError('REPLY_TIMEOUT', `${what}: no valid reply within ${this.#o.replyTimeoutMs} ms (bad frames so far: ${bad})`, this.#where()));
      }, this.#o.replyTimeoutMs);
      this.#pending = { expectFc: fc, resolve, reject, timer };
    });
    // The timeout may fire while the write is still under way (a slow drain, a shared bus):
    // mark the rejection handled now; it is still thrown by the await below.
    reply.catch(() => undefined);
    try {
      await this.#link.write(frame);
    } catch (err) {
      this.#fail(err as Error);
    }
    this.#lastBusAt = Date.now();
    const out = await reply;
    if (out[1] === (fc | 0x80)) throw new DriverError('BAD_REPLY', `${what}: exception code ${out[2]} from the board`, this.#where());
    return out;
  }

  #onFrame(frame: Buffer): void {
    const p = this.#pending;
    if (!p || (frame[1] !== p.expectFc && frame[1] !== (p.expectFc | 0x80))) {
      // A late reply to a timed-out request, or another master's traffic: not ours.
      this.emit('discarded', { count: frame.length, reason: 'invalid-frame', sample: frame.subarray(0, 32) } satisfies Discarded);
      return;
    }
    clearTimeout(p.timer);
    this.#pending = null;
    p.resolve(frame);
  }

  #fail(err: Error): void {
    const p = this.#pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending = null;
    p.reject(err);
  }
}
