// A fake dcttech USB HID relay board standing in for the HidLink: it takes the same
// 9-byte feature reports and answers the state report byte-exactly, with fault knobs.
import { EventEmitter } from 'node:events';
import { DriverError } from '../transport/framing.js';
import type { HidLink } from '../types.js';
import { DCTTECH_CMD } from './dcttech.js';
import type { RelayPulseRecord } from './modbus.sim.js';

export interface DcttechSimFaults {
  /** Accept commands but do nothing (state never changes). */
  silent: boolean;
  /** State reports are random bytes. */
  garbage: boolean;
  /** State reports carry a wrong relay bitmask (the HID analogue of a bad checksum). */
  corrupt: boolean;
  /** Delay every operation, ms. */
  slowMs: number;
}

export interface DcttechRelaySimOptions {
  relays?: number;
  /** Board id, 5 ASCII characters. */
  id?: string;
  /** Return the state report with the report id in front (9 bytes), as some platforms do. */
  reportIdPrefix?: boolean;
  faults?: Partial<DcttechSimFaults>;
  now?: () => number;
}

export class DcttechRelaySim extends EventEmitter implements HidLink {
  readonly relays: boolean[];
  readonly id: string;
  readonly frames: Buffer[] = [];
  readonly pulses: RelayPulseRecord[] = [];
  faults: DcttechSimFaults;
  readonly product: string;
  readonly #prefix: boolean;
  readonly #now: () => number;
  readonly #onSince = new Map<number, number>();
  #open = true;

  constructor(options: DcttechRelaySimOptions = {}) {
    super();
    this.relays = Array.from({ length: options.relays ?? 1 }, () => false);
    this.id = (options.id ?? 'HURTM').slice(0, 5);
    this.product = `USBRelay${this.relays.length}`;
    this.#prefix = options.reportIdPrefix ?? false;
    this.faults = { silent: false, garbage: false, corrupt: false, slowMs: 0, ...options.faults };
    this.#now = options.now ?? Date.now;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  setFaults(f: Partial<DcttechSimFaults>): void {
    this.faults = { ...this.faults, ...f };
  }

  /** USB unplug: state is lost (the board powers off) and the link closes. */
  unplug(): void {
    if (!this.#open) return;
    this.#open = false;
    this.relays.fill(false);
    this.#onSince.clear();
    this.emit('close', new Error('dcttech simulator unplugged'));
  }

  replug(): void {
    if (this.#open) return;
    this.#open = true;
    this.emit('open');
  }

  async write(_data: Buffer): Promise<void> {
    await this.#ready();
    // The board has no output reports: writes go nowhere, like on the real one.
  }

  async sendFeatureReport(data: Buffer): Promise<number> {
    await this.#ready();
    const frame = Buffer.from(data);
    this.frames.push(frame);
    this.emit('frame', frame);
    if (this.faults.silent) return frame.length;
    // Report id 0 first; some callers leave it out, so accept both layouts.
    const [cmd, n] = frame[0] === 0 ? [frame[1], frame[2]] : [frame[0], frame[1]];
    if (cmd === DCTTECH_CMD.on && n !== undefined) this.#set(n, true);
    else if (cmd === DCTTECH_CMD.off && n !== undefined) this.#set(n, false);
    else if (cmd === DCTTECH_CMD.allOn) for (let i = 1; i <= this.relays.length; i++) this.#set(i, true);
    else if (cmd === DCTTECH_CMD.allOff) for (let i = 1; i <= this.relays.length; i++) this.#set(i, false);
    return frame.length;
  }

  async getFeatureReport(reportId: number, length: number): Promise<Buffer> {
    await this.#ready();
    if (this.faults.garbage) return Buffer.from(Array.from({ length: 8 }, () => Math.floor(Math.random() * 256)));
    const body = Buffer.alloc(8);
    body.write(this.id.padEnd(5, '\0'), 0, 'latin1');
    let mask = 0;
    this.relays.forEach((on, i) => (mask |= on ? 1 << i : 0));
    body[7] = this.faults.corrupt ? ~mask & 0xff : mask;
    const out = this.#prefix ? Buffer.concat([Buffer.from([reportId]), body]) : body;
    return out.subarray(0, Math.max(length, 8));
  }

  #set(n: number, on: boolean): void {
    if (n < 1 || n > this.relays.length) return;
    const was = this.relays[n - 1];
    this.relays[n - 1] = on;
    if (on && !was) this.#onSince.set(n, this.#now());
    if (!on && was) {
      const since = this.#onSince.get(n) ?? this.#now();
      this.pulses.push({ at: since, channel: n, ms: this.#now() - since });
      this.emit('pulse', { channel: n, ms: this.#now() - since });
    }
  }

  async #ready(): Promise<void> {
    if (this.faults.slowMs > 0) await new Promise((r) => setTimeout(r, this.faults.slowMs));
    if (!this.#open) throw new DriverError('LINK_CLOSED', 'device unplugged', 'dcttech-sim');
  }
}
