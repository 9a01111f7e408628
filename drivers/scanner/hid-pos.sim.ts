// HID-POS scanner simulator on a FakeHidDevice: present(code) sends the Honeywell
// report-id-2 fragments; fault knobs mirror the serial simulators.
import { FakeHidDevice } from '../transport/fake-hid.js';
import { encodeHidPosReport, encodeHidPosReports, HONEYWELL_VID, HID_POS_DATA_MAX } from './hid-pos.js';
import { NO_FAULTS, seededRandom, type SimFaults, type SimOptions } from './sim-base.js';

export interface HidPosSimOptions extends SimOptions {
  aim?: string;
  codeId?: number;
}

export class HidPosSim {
  readonly type = 'hid-pos';
  faults: SimFaults;
  readonly device: FakeHidDevice;
  readonly #random: () => number;
  readonly #aim: string;
  readonly #codeId: number;
  /** True once the host sent feature report FE 01. */
  hidPosEnabled = false;

  constructor(device?: FakeHidDevice, options: HidPosSimOptions = {}) {
    this.device = device ?? new FakeHidDevice({ vendorId: HONEYWELL_VID, productId: 0x0b8f, product: 'Honeywell HID-POS (sim)' });
    this.faults = { ...NO_FAULTS, ...options.faults };
    this.#random = options.random ?? seededRandom();
    this.#aim = options.aim ?? ']Q1';
    this.#codeId = options.codeId ?? 0x73;
    this.device.onSendFeatureReport = (data) => {
      if (data[0] === 0xfe && data[1] === 0x01) this.hidPosEnabled = true;
    };
  }

  /** Uniform simulator API: HID reports are pushed, not read, so nothing to attach. */
  start(): void {}
  stop(): void {}

  setFaults(faults: Partial<SimFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  /** The reports for one code (with CR suffix, as Honeywell sends it). */
  encode(code: string | Buffer, fragment = HID_POS_DATA_MAX): Buffer[] {
    const bytes = Buffer.concat([typeof code === 'string' ? Buffer.from(code, 'utf8') : code, Buffer.from([0x0d])]);
    return encodeHidPosReports(bytes, { aim: this.#aim, codeId: this.#codeId, fragment });
  }

  async present(code: string | Buffer): Promise<void> {
    if (this.faults.silent) return;
    // "split frames" for HID = random small fragments instead of full 56-byte ones.
    const fragment = this.faults.splitFrames ? 1 + Math.floor(this.#random() * HID_POS_DATA_MAX) : HID_POS_DATA_MAX;
    const reports = this.encode(code, fragment);
    if (this.faults.garbageBytes > 0) {
      const junk = Buffer.alloc(64);
      for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(this.#random() * 256);
      junk[0] = 0x05; // another report id: the host must ignore it
      this.device.input(junk);
    }
    if (this.faults.corruptChecksum) {
      // No checksum in HID-POS: corrupt the length byte (beyond the data span).
      const first = reports[0];
      if (first) reports[0] = encodeHidPosReport({ data: first.subarray(5, 5 + 56), length: 0xff });
    }
    if (this.faults.slowMs > 0) await sleep(this.faults.slowMs);
    for (const [i, r] of reports.entries()) {
      if (i > 0 && this.faults.chunkGapMs > 0) await sleep(this.faults.chunkGapMs);
      this.device.input(r);
    }
  }

  unplug(): void {
    this.device.unplug();
  }

  replug(): void {
    this.device.replug();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
