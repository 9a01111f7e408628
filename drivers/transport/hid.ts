// A HidLink over node-hid, opened by vendor/product (and serial number when several
// identical devices are plugged in). node-hid needs libusb at load time, so it is
// imported only when the first HID device is opened: a gateway without HID devices
// starts on a machine without libusb.
import { EventEmitter } from 'node:events';
import type { HidLink } from '../types.js';
import { DriverError } from './framing.js';
import { Supervisor, type BackoffOptions } from './supervisor.js';

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

export interface HidDeviceLinkOptions {
  backend?: () => Promise<HidBackend>;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  now?: () => number;
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
export class HidDeviceLink extends EventEmitter implements HidLink {
  readonly selector: HidSelector;
  readonly #supervisor: Supervisor<Opened>;

  constructor(selector: HidSelector, options: HidDeviceLinkOptions = {}) {
    super();
    this.selector = selector;
    const load = options.backend ?? loadNodeHid;
    this.#supervisor = new Supervisor<Opened>(
      {
        open: async (lost) => {
          const hid = await load();
          const found = (await hid.devices()).filter((d) => matches(d, selector) && d.path);
          const first = found[0];
          if (!first?.path) throw new DriverError('OPEN_FAILED', 'not plugged in', describeSelector(selector));
          let handle: HidHandle;
          try {
            handle = await hid.open(first.path);
          } catch (err) {
            throw new DriverError('OPEN_FAILED', `${first.path}: ${(err as Error).message} (is the user in the plugdev group?)`, describeSelector(selector));
          }
          handle.on('data', (d: Buffer) => this.emit('data', d));
          handle.on('error', (err: Error) => lost(new DriverError('LINK_CLOSED', `lost: ${err.message}`, describeSelector(selector))));
          return { handle, info: first };
        },
        close: async ({ handle }) => {
          handle.removeAllListeners('data');
          handle.removeAllListeners('error');
          handle.on('error', () => undefined);
          await handle.close().catch(() => undefined);
        },
      },
      { ...(options.backoff ? { backoff: options.backoff } : {}), ...(options.random ? { random: options.random } : {}), ...(options.now ? { now: options.now } : {}) },
    );
    this.#supervisor.on('connected', () => this.emit('open'));
    this.#supervisor.on('disconnected', (err: Error) => this.emit('close', err));
    this.#supervisor.on('retry', (info: unknown) => this.emit('retry', info));
  }

  get isOpen(): boolean {
    return this.#supervisor.handle !== null;
  }

  /** The device currently open (product string tells a dcttech board's relay count). */
  get info(): HidDeviceInfo | null {
    return this.#supervisor.handle?.info ?? null;
  }

  get lastError(): Error | null {
    return this.#supervisor.lastError;
  }

  start(): Promise<void> {
    return this.#supervisor.start();
  }

  stop(): Promise<void> {
    return this.#supervisor.stop();
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
    const opened = this.#supervisor.handle;
    if (!opened) throw new DriverError('LINK_CLOSED', `not open (${this.lastError?.message ?? 'not started'})`, describeSelector(this.selector));
    try {
      return await fn(opened.handle);
    } catch (err) {
      const e = new DriverError('WRITE_FAILED', `${what} failed: ${(err as Error).message}`, describeSelector(this.selector));
      this.#supervisor.reportLost(e);
      throw e;
    }
  }
}
