// A byte-exact stand-in for a node-hid device (no /dev/hidraw or /dev/uhid here). The
// host side is the HidLink the drivers use; the device side (a simulator or a test)
// pushes input reports with input() and answers feature reports through handlers.
import { EventEmitter } from 'node:events';
import type { HidLink } from '../types.js';
import { DriverError } from './framing.js';

export interface FakeHidOptions {
  vendorId?: number;
  productId?: number;
  product?: string;
  /** Start unplugged. Default false. */
  unplugged?: boolean;
}

/**
 * Host side: write(), sendFeatureReport(), getFeatureReport(), 'data'/'open'/'close'.
 * Device side: input(report), unplug(), replug(), the on* handlers, and the logs of
 * everything the host sent (`writes`, `featureReports`).
 */
export class FakeHidDevice extends EventEmitter implements HidLink {
  readonly vendorId: number;
  readonly productId: number;
  readonly product: string;
  #open: boolean;
  /** Output reports the host wrote (report id first, as node-hid takes them). */
  readonly writes: Buffer[] = [];
  /** Feature reports the host sent (report id first). */
  readonly featureReports: Buffer[] = [];
  /** Device behaviour for an output report. */
  onWrite: ((data: Buffer) => void) | undefined;
  /** Device behaviour for a feature report sent by the host. */
  onSendFeatureReport: ((data: Buffer) => void) | undefined;
  /** Device answer to a feature report request; default: `length` zero bytes with the id first. */
  onGetFeatureReport: ((reportId: number, length: number) => Buffer) | undefined;

  constructor(options: FakeHidOptions = {}) {
    super();
    this.vendorId = options.vendorId ?? 0;
    this.productId = options.productId ?? 0;
    this.product = options.product ?? 'fake-hid';
    this.#open = !(options.unplugged ?? false);
  }

  get isOpen(): boolean {
    return this.#open;
  }

  async write(data: Buffer): Promise<void> {
    this.#check('write');
    const copy = Buffer.from(data);
    this.writes.push(copy);
    this.onWrite?.(copy);
  }

  async sendFeatureReport(data: Buffer): Promise<number> {
    this.#check('sendFeatureReport');
    const copy = Buffer.from(data);
    this.featureReports.push(copy);
    this.onSendFeatureReport?.(copy);
    return copy.length;
  }

  async getFeatureReport(reportId: number, length: number): Promise<Buffer> {
    this.#check('getFeatureReport');
    if (this.onGetFeatureReport) return Buffer.from(this.onGetFeatureReport(reportId, length));
    const out = Buffer.alloc(length);
    out[0] = reportId;
    return out;
  }

  /** Device side: send one input report to the host (as node-hid's 'data'). */
  input(report: Buffer | Uint8Array | number[]): void {
    if (!this.#open) return;
    this.emit('data', Buffer.from(report instanceof Uint8Array ? report : Uint8Array.from(report)));
  }

  unplug(): void {
    if (!this.#open) return;
    this.#open = false;
    // node-hid reports a vanished device as an error on read.
    this.emit('close', new Error('could not read from HID device'));
  }

  replug(): void {
    if (this.#open) return;
    this.#open = true;
    this.emit('open');
  }

  #check(op: string): void {
    if (!this.#open) throw new DriverError('LINK_CLOSED', `${op} on an unplugged HID device`, this.product);
  }
}
