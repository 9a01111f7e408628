// A HidLink over node-hid, opened by vendor/product (and serial number when several
// identical devices are plugged in). node-hid needs libusb at load time, so it is
// imported only when the first HID device is opened: a gateway without HID devices
// starts on a machine without libusb.
import type { HidLink } from '../types.js';
import { DriverError } from './framing.js';
import { SupervisedLinkBase, type SupervisorOptions } from './supervisor.js';

export interface HidSelector {
  vendorId: number;
  productId: number;
  /** USB serial number string; required to tell identical devices apart. */
  serial?: string;
  /** Only the device whose product string is this (e.g. "USBRelay2"). */
  product?: string;
}

export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  interface?: number;
}

/** The part of node-hid's HIDAsync the link uses. */
export interface HidHandle extends NodeJS.EventEmitter {
  write(data: Buffer | number[]): Promise<number>;
  sendFeatureReport(data: Buffer | number[]): Promise<number>;
  getFeatureReport(reportId: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface HidBackend {
  devices(): Promise<HidDeviceInfo[]>;
  open(path: string): Promise<HidHandle>;
}

let backend: Promise<HidBackend> | null = null;

/** node-hid, loaded on first use; rejects with TRANSPORT_UNAVAILABLE when libusb is missing. */
export function loadNodeHid(): Promise<HidBackend> {
  backend ??= import('node-hid').then(
    (mod) => {
      const hid = (mod as unknown as { default?: typeof mod }).default ?? mod;
      return {
        devices: () => hid.devicesAsync(),
        open: (path: string) => hid.HIDAsync.open(path) as unknown as Promise<HidHandle>,
      };
    },
    (err: unknown) => {
      backend = null;
      throw new DriverError('OPEN_FAILED', `node-hid could not be loaded (is libusb-1.0-0 installed?): ${(err as Error).message}`, 'node-hid');
    },
  );
  return backend;
}

export function matches(d: HidDeviceInfo, s: HidSelector): boolean {
  return (
    d.vendorId === s.vendorId &&
    d.productId === s.productId &&
    (s.serial === undefined || d.serialNumber === s.serial) &&
    (s.product === undefined || d.product === s.product)
  );
}

export function describeSelector(s: HidSelector): string {
  const hex = (n: number) => n.toString(16).padStart(4, '0');
  return `HID ${hex(s.vendorId)}:${hex(s.productId)}${s.serial ? ` serial ${s.serial}` : ''}${s.product ? ` product ${s.product}` : ''}`;
}

export interface HidDeviceLinkOptions extends SupervisorOptions {
  backend?: () => Promise<HidBackend>;
}

interface Opened {
  handle: HidHandle;
  info: HidDeviceInfo;
}

/**
 * Emits 'open', 'close' (Error), 'data' (Buffer: one input report). Any failed
 * operation marks the device lost and the supervisor reopens it: a relay board sends
 * no input reports, so a failed feature report is the only sign of an unplug.
 */
export class HidDeviceLink extends SupervisedLinkBase<Opened> implements HidLink {
  readonly selector: HidSelector;
  readonly #load: () => Promise<HidBackend>;

  constructor(selector: HidSelector, options: HidDeviceLinkOptions = {}) {
    super(describeSelector(selector), options);
    this.selector = selector;
    this.#load = options.backend ?? loadNodeHid;
  }

  protected override async openHandle(lost: (err: Error) => void, data: (d: Buffer) => void): Promise<Opened> {
    const hid = await this.#load();
    const found = (await hid.devices()).filter((d) => matches(d, this.selector) && d.path);
    const first = found[0];
    if (!first?.path) throw new DriverError('OPEN_FAILED', 'not plugged in', this.where);
    let handle: HidHandle;
    try {
      handle = await hid.open(first.path);
    } catch (err) {
      throw new DriverError('OPEN_FAILED', `${first.path}: ${(err as Error).message} (is the user in the plugdev group?)`, this.where);
    }
    handle.on('data', data);
    handle.on('error', (err: Error) => lost(new DriverError('LINK_CLOSED', `lost: ${err.message}`, this.where)));
    return { handle, info: first };
  }

  protected override async closeHandle({ handle }: Opened): Promise<void> {
    handle.removeAllListeners('data');
    handle.removeAllListeners('error');
    handle.on('error', () => undefined);
    await handle.close().catch(() => undefined);
  }

  /** The device currently open (product string tells a dcttech board's relay count). */
  get info(): HidDeviceInfo | null {
    return this.handle?.info ?? null;
  }

  async write(data: Buffer): Promise<void> {
    await this.#op('write', (h) => h.write(data));
  }

  sendFeatureReport(data: Buffer): Promise<number> {
    return this.#op('sendFeatureReport', (h) => h.sendFeatureReport(data));
  }

  getFeatureReport(reportId: number, length: number): Promise<Buffer> {
    return this.#op('getFeatureReport', (h) => h.getFeatureReport(reportId, length)).then((b) => Buffer.from(b));
  }

  async #op<T>(what: string, fn: (h: HidHandle) => Promise<T>): Promise<T> {
    const opened = this.handle;
    if (!opened) throw this.notOpen();
    try {
      return await fn(opened.handle);
    } catch (err) {
      const e = new DriverError('WRITE_FAILED', `${what} failed: ${(err as Error).message}`, this.where);
      this.reportLost(e);
      throw e;
    }
  }
}
