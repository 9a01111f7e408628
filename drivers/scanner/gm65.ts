// GM65 / GM805 scan modules, 9600 8N1 by default. One stream carries two things:
// response frames `02 00 TYPE LEN DATA CRC_H CRC_L` (CRC-16/XMODEM over TYPE..DATA)
// answering our commands, and scanned data = the code + CR. The framer tells them apart
// at each frame start; commands are `7E 00 T L AH AL DATA CRC` (or `AB CD` = no check).
import type { ByteLink, DeviceState, ScannerDevice } from '../types.js';
import { crc16Xmodem, defaultTimers, DriverError, Framer, type FramerOptions, type ScanResult, type TimerFns } from '../transport/framing.js';
import { LinkDevice, type DeviceBaseOptions, type DeviceCounters } from './device-base.js';

export const GM65_READ = 0x07;
export const GM65_WRITE = 0x08;
export const GM65_SAVE = 0x09;
/** Trigger one scan in command mode: write 0x01 to register 0x0002. */
export const GM65_TRIGGER = Buffer.from([0x7e, 0x00, 0x08, 0x01, 0x00, 0x02, 0x01, 0xab, 0xcd]);
/** The module's answer to a successful write. */
export const GM65_WRITE_ACK = Buffer.from([0x02, 0x00, 0x00, 0x01, 0x00, 0x33, 0x31]);
export const GM65_MODE_REGISTER = 0x0000;
export const GM65_TRIGGER_REGISTER = 0x0002;

export type Gm65Mode = 'manual' | 'command' | 'continuous' | 'induction';
export const GM65_MODE_BITS: Record<Gm65Mode, number> = { manual: 0b00, command: 0b01, continuous: 0b10, induction: 0b11 };

export type Gm65Frame =
  | { kind: 'response'; type: number; data: Buffer }
  | { kind: 'scan'; data: Buffer };

/** Build a command frame; `check: 'none'` puts `AB CD` where the CRC goes. */
export function encodeGm65Command(type: number, address: number, data: Uint8Array | number[], check: 'crc' | 'none' = 'none'): Buffer {
  if (data.length > 0xff) throw new DriverError('INVALID_ARGUMENT', 'GM65 command data is at most 255 bytes', 'gm65');
  const body = Buffer.from([type, data.length, (address >> 8) & 0xff, address & 0xff, ...data]);
  const tail = check === 'none' ? Buffer.from([0xab, 0xcd]) : crcBytes(body);
  return Buffer.concat([Buffer.from([0x7e, 0x00]), body, tail]);
}

/** Build a response frame as the module sends it (type 00 = success). */
export function encodeGm65Response(data: Uint8Array | number[], type = 0x00): Buffer {
  const body = Buffer.from([type, data.length, ...data]);
  return Buffer.concat([Buffer.from([0x02, 0x00]), body, crcBytes(body)]);
}

function crcBytes(body: Uint8Array): Buffer {
  const crc = crc16Xmodem(body);
  return Buffer.from([crc >> 8, crc & 0xff]);
}

export interface Gm65FramerOptions extends FramerOptions {
  /** Longest scanned code (without CR). Default 1024. */
  maxLength?: number;
}

/** Separates response frames from CR-terminated scanned data in one stream. */
export class Gm65Framer extends Framer<Gm65Frame> {
  readonly #max: number;
  #dropping = false;

  constructor(options: Gm65FramerOptions = {}) {
    const maxLength = options.maxLength ?? 1024;
    super({ ...options, capacity: options.capacity ?? maxLength + 300 });
    this.#max = maxLength;
  }

  protected override onDrop(): void {
    this.#dropping = false;
  }

  protected scan(buf: Buffer): ScanResult<Gm65Frame> {
    const cr = buf.indexOf(0x0d);
    if (this.#dropping) {
      if (cr < 0) return { kind: 'skip', count: buf.length, reason: 'too-long' };
      this.#dropping = false;
      return { kind: 'skip', count: cr + 1, reason: 'too-long' };
    }
    if (buf[0] === 0x02 && (buf.length < 2 || buf[1] === 0x00)) {
      if (buf.length < 4) return { kind: 'need' };
      const total = 4 + (buf[3] ?? 0) + 2;
      if (buf.length < total) return { kind: 'need' };
      const body = buf.subarray(2, total - 2);
      const crc = crc16Xmodem(body);
      if (buf[total - 2] !== crc >> 8 || buf[total - 1] !== (crc & 0xff)) {
        // Resync one byte on: the rest is then read as a (junk) line up to its CR.
        return { kind: 'bad' };
      }
      return { kind: 'frame', length: total, frame: { kind: 'response', type: body[0] ?? 0, data: Buffer.from(body.subarray(2)) } };
    }
    if (cr < 0) {
      if (buf.length > this.#max) {
        this.#dropping = true;
        return { kind: 'skip', count: buf.length, reason: 'too-long' };
      }
      return { kind: 'need' };
    }
    if (cr > this.#max) return { kind: 'skip', count: cr + 1, reason: 'too-long' };
    // A stray LF (CRLF suffix configured on the module) is not part of the next code.
    let start = 0;
    while (start < cr && buf[start] === 0x0a) start++;
    if (start === cr) return { kind: 'skip', count: cr + 1, reason: 'no-frame-start' };
    return { kind: 'frame', length: cr + 1, frame: { kind: 'scan', data: Buffer.from(buf.subarray(start, cr)) } };
  }
}

export interface Gm65Options extends DeviceBaseOptions {
  /** Set register 0x0000 bits 1:0 on every open (read-modify-write). Default: leave as is. */
  mode?: Gm65Mode;
  /** Checksum style of our commands. Default 'none' (`AB CD`), which every module accepts. */
  check?: 'crc' | 'none';
  /** Reply timeout for commands. Default 500 ms. */
  replyTimeoutMs?: number;
  /** Pause before asking again when the module did not answer after its port opened (ms). Default 500. */
  probeIntervalMs?: number;
  maxLength?: number;
  interByteTimeoutMs?: number;
  timers?: TimerFns;
}


interface Pending {
  resolve: (data: Buffer) => void;
  reject: (err: DriverError) => void;
  timer: unknown;
}

/** Emits 'scan' (payload: Buffer), 'status', 'discarded', 'fault', 'response'. */
export class Gm65Scanner extends LinkDevice<ByteLink> implements ScannerDevice {
  readonly framer: Gm65Framer;
  readonly #mode: Gm65Mode | undefined;
  readonly #check: 'crc' | 'none';
  readonly #replyTimeoutMs: number;
  readonly #timers: TimerFns;
  readonly #probeIntervalMs: number;
  #probeTimer: unknown;
  #pending: Pending | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(link: ByteLink, options: Gm65Options = {}) {
    super('gm65', link, options);
    this.#mode = options.mode;
    this.#check = options.check ?? 'none';
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 500;
    this.#timers = options.timers ?? defaultTimers;
    this.#probeIntervalMs = options.probeIntervalMs ?? 500;
    if (this.#mode !== undefined && !(this.#mode in GM65_MODE_BITS)) {
      throw new DriverError('INVALID_ARGUMENT', `mode must be manual, command, continuous or induction, got ${String(this.#mode)}`, this.type);
    }
    this.framer = new Gm65Framer({
      maxLength: options.maxLength ?? 1024,
      interByteTimeoutMs: options.interByteTimeoutMs ?? 100,
      ...(options.timers ? { timers: options.timers } : {}),
    });
    this.framer.on('frame', (f) => this.#frame(f));
    this.framer.on('discarded', (d) => this.safeEmit('discarded', d));
  }

  get counters(): DeviceCounters {
    return { ...this.framer.counters, ...this.deviceCounters };
  }

  /** Send a command and wait for its response data. One command at a time, in order. */
  command(type: number, address: number, data: Uint8Array | number[]): Promise<Buffer> {
    const run = (): Promise<Buffer> => this.#send(encodeGm65Command(type, address, data, this.#check));
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  readRegister(address: number, count = 1): Promise<Buffer> {
    return this.command(GM65_READ, address, [count]);
  }

  async writeRegister(address: number, value: number): Promise<void> {
    await this.command(GM65_WRITE, address, [value & 0xff]);
  }

  /** Trigger one scan (module in command mode). Resolves on the write ACK. */
  async trigger(): Promise<void> {
    await this.writeRegister(GM65_TRIGGER_REGISTER, 0x01);
  }

  /** Set the mode bits (1:0) of register 0x0000, keeping the other bits. */
  async setMode(mode: Gm65Mode): Promise<void> {
    const current = (await this.readRegister(GM65_MODE_REGISTER))[0] ?? 0;
    await this.writeRegister(GM65_MODE_REGISTER, (current & ~0b11) | GM65_MODE_BITS[mode]);
  }

  #send(frame: Buffer): Promise<Buffer> {
    if (!this.link.isOpen) return Promise.reject(new DriverError('LINK_CLOSED', 'command while the link is closed', this.type));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => {
        this.#pending = undefined;
        this.deviceCounters.replyTimeouts++;
        const err = new DriverError('REPLY_TIMEOUT', `no response within ${this.#replyTimeoutMs} ms`, this.type);
        this.fault(err);
        reject(err);
      }, this.#replyTimeoutMs);
      this.#pending = { resolve, reject, timer };
      this.link.write(frame).catch((e: unknown) => {
        this.#settle(new DriverError('WRITE_FAILED', `write failed: ${(e as Error).message}`, this.type));
      });
    });
  }

  #settle(result: Buffer | DriverError): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    this.#timers.clearTimeout(p.timer);
    if (result instanceof DriverError) p.reject(result);
    else p.resolve(result);
  }

  #frame(f: Gm65Frame): void {
    // Whatever the module sends shows it is there.
    if (this.status.state !== 'connected') this.#answered();
    if (f.kind === 'scan') {
      this.safeEmit('scan', f.data, {});
      return;
    }
    this.safeEmit('response', f);
    if (f.type !== 0x00) {
      this.#settle(new DriverError('BAD_REPLY', `response type 0x${f.type.toString(16)} (not success)`, this.type));
      return;
    }
    this.#settle(f.data);
  }

  /**
   * An open port only shows the USB adapter is there: the module counts as up once it
   * has answered. The handshake sets the configured mode, or else reads the mode
   * register (a harmless read every module answers in any mode).
   */
  protected override stateOnOpen(): { state: DeviceState; detail?: string } {
    return { state: 'disconnected', detail: 'port open; waiting for the module to answer' };
  }

  protected override onLinkOpen(): void {
    this.#handshake();
  }

  #handshake(): void {
    this.#probeTimer = undefined;
    if (!this.started || !this.link.isOpen || this.status.state === 'connected') return;
    const ask = this.#mode === undefined ? this.readRegister(GM65_MODE_REGISTER).then(() => undefined) : this.setMode(this.#mode);
    ask.then(
      () => this.#answered(),
      (err: unknown) => {
        // Timeouts are already counted; a close simply ends the attempt (retried on reopen).
        if (err instanceof DriverError && err.code !== 'REPLY_TIMEOUT' && err.code !== 'LINK_CLOSED') this.fault(err);
        if (err instanceof DriverError && err.code === 'LINK_CLOSED') return;
        if (this.started && this.link.isOpen && this.status.state !== 'connected' && this.#probeTimer === undefined) {
          this.#probeTimer = this.#timers.setTimeout(() => this.#handshake(), this.#probeIntervalMs);
        }
      },
    );
  }

  #answered(): void {
    this.#clearProbeTimer();
    if (this.started && this.link.isOpen) this.setState('connected');
  }

  #clearProbeTimer(): void {
    if (this.#probeTimer !== undefined) {
      this.#timers.clearTimeout(this.#probeTimer);
      this.#probeTimer = undefined;
    }
  }

  protected onData(chunk: Buffer): void {
    this.framer.push(chunk);
  }

  protected onLinkReset(): void {
    this.#clearProbeTimer();
    this.framer.reset();
    this.#settle(new DriverError('LINK_CLOSED', 'link closed while waiting for a response', this.type));
  }

  protected onStop(): void {
    this.#clearProbeTimer();
    this.#settle(new DriverError('LINK_CLOSED', 'scanner stopped', this.type));
    this.framer.dispose();
  }
}
