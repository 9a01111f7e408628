// "dcttech" USB HID relay board (V-USB, 16C0:05DF, devices.md): 9-byte feature reports
// `00 CMD N 00…`, state in the feature report read back. No timer on the board, so the
// pulse is timed here and every "on" is confirmed by reading the state back.
import { DriverError } from '../transport/framing.js';
import type { HidLink } from '../types.js';
import { HostPulseTimer, RelayBase } from './base.js';

export const DCTTECH_VENDOR_ID = 0x16c0;
export const DCTTECH_PRODUCT_ID = 0x05df;
export const DCTTECH_CMD = { on: 0xff, off: 0xfd, allOn: 0xfe, allOff: 0xfc } as const;

/** The 9-byte feature report: report id 0, command, relay number, six zeros. */
export function dcttechCommand(cmd: number, relay: number): Buffer {
  return Buffer.from([0x00, cmd & 0xff, relay & 0xff, 0, 0, 0, 0, 0, 0]);
}

export interface DcttechState {
  /** Board id, ASCII bytes 0–4. */
  id: string;
  /** Bit 0 = relay 1. */
  mask: number;
}

/**
 * Parse the state report by its length: 8 bytes as the board sends it, 9 when the
 * platform prefixes the report id (everything shifted by one).
 */
export function parseDcttechState(report: Buffer): DcttechState {
  const base = report.length >= 9 ? 1 : 0;
  if (report.length < 8) throw new DriverError('BAD_REPLY', `state report of ${report.length} bytes, expected 8 or 9`, 'dcttech-relay');
  const id = report.subarray(base, base + 5).toString('latin1').replace(/\0+$/, '');
  return { id, mask: report[base + 7]! };
}

/** Relay count from the product string "USBRelayN", or null when it is not one. */
export function dcttechRelayCount(product: string | undefined): number | null {
  const m = /^USBRelay(\d)$/.exec(product ?? '');
  return m ? Number(m[1]) : null;
}

export interface DcttechRelayOptions {
  /** Relay number, 1-based. */
  channel: number;
  pollMs?: number;
  now?: () => number;
}

export class DcttechRelay extends RelayBase {
  readonly #link: HidLink;
  readonly #channel: number;
  readonly #timer = new HostPulseTimer();

  constructor(link: HidLink, options: DcttechRelayOptions) {
    // Polling the state is also how an unplug is noticed: the board sends no input reports.
    super(link, { type: 'dcttech-relay', pollMs: options.pollMs ?? 2000, ...(options.now ? { now: options.now } : {}) });
    if (!Number.isInteger(options.channel) || options.channel < 1 || options.channel > 8) {
      throw new DriverError('INVALID_ARGUMENT', `channel must be 1..8, got ${options.channel}`, 'dcttech-relay');
    }
    this.#link = link;
    this.#channel = options.channel;
  }

  async readState(): Promise<DcttechState> {
    return parseDcttechState(await this.#link.getFeatureReport(0, 9));
  }

  protected async sendPulse(ms: number): Promise<void> {
    const bit = 1 << (this.#channel - 1);
    let confirmed = false;
    try {
      await this.#link.sendFeatureReport(dcttechCommand(DCTTECH_CMD.on, this.#channel));
      confirmed = ((await this.readState()).mask & bit) !== 0;
    } catch (err) {
      void this.allOff().catch(() => undefined);
      throw err;
    }
    if (!confirmed) {
      // The board did not take the command; do not leave it half-done, and do not resend.
      void this.allOff().catch(() => undefined);
      throw new DriverError('BAD_REPLY', `relay ${this.#channel} did not report on after the command`, 'dcttech-relay');
    }
    this.#timer.arm(ms, this.now(), () => {
      this.idempotent('off', () => this.#off()).catch((err: unknown) => this.setState('fault', `gate may be open: off not delivered (${(err as Error).message})`));
    });
  }

  protected async sendAllOff(): Promise<void> {
    this.#timer.cancel();
    await this.#link.sendFeatureReport(dcttechCommand(DCTTECH_CMD.allOff, 0));
  }

  protected async probe(): Promise<void> {
    await this.readState();
  }

  protected override onLinkDown(): void {
    this.#timer.cancel();
  }

  async #off(): Promise<void> {
    await this.#link.sendFeatureReport(dcttechCommand(DCTTECH_CMD.off, this.#channel));
  }
}
