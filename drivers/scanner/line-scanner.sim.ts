// Simulator of a generic serial line scanner: code (+ optional AIM id) + suffix; in
// Honeywell trigger mode it holds a presented code until it receives SYN T CR.
import { ByteSim, type SimLink, type SimOptions } from './sim-base.js';
import { HONEYWELL_RELEASE, HONEYWELL_TRIGGER, SUFFIX_BYTES, type LineSuffix } from './line-scanner.js';

export interface LineScannerSimOptions extends SimOptions {
  suffix?: LineSuffix;
  /** AIM id to prefix each code with, e.g. "]Q1". */
  aimId?: string;
  /** Hold presented codes until a Honeywell trigger arrives. Default false. */
  honeywellTrigger?: boolean;
}

export class LineScannerSim extends ByteSim {
  readonly #suffix: Buffer;
  readonly #aim: Buffer;
  readonly #triggerMode: boolean;
  #pending: Buffer | undefined;
  #rx = Buffer.alloc(0);
  triggered = false;

  constructor(link: SimLink, options: LineScannerSimOptions = {}) {
    super('line-scanner', link, options);
    this.#suffix = SUFFIX_BYTES[options.suffix ?? 'CR'];
    this.#aim = Buffer.from(options.aimId ?? '', 'latin1');
    this.#triggerMode = options.honeywellTrigger ?? false;
  }

  /** The wire bytes for one code. */
  encode(code: string | Buffer): Buffer {
    return Buffer.concat([this.#aim, typeof code === 'string' ? Buffer.from(code, 'utf8') : code, this.#suffix]);
  }

  /** Hold a code in front of the scanner: sent now, or on the next trigger in trigger mode. */
  async present(code: string | Buffer): Promise<void> {
    const bytes = this.encode(code);
    if (this.#triggerMode && !this.triggered) {
      this.#pending = bytes;
      return;
    }
    this.triggered = false;
    await this.sendFrame(bytes, 0);
  }

  protected onCommandBytes(chunk: Buffer): void {
    this.#rx = Buffer.concat([this.#rx, chunk]).subarray(-16);
    for (;;) {
      const t = this.#rx.indexOf(HONEYWELL_TRIGGER);
      const r = this.#rx.indexOf(HONEYWELL_RELEASE);
      if (t < 0 && r < 0) return;
      if (t >= 0 && (r < 0 || t < r)) {
        this.#rx = this.#rx.subarray(t + 3);
        if (this.#pending) {
          const p = this.#pending;
          this.#pending = undefined;
          void this.sendFrame(p, 0);
        } else this.triggered = true;
      } else {
        this.#rx = this.#rx.subarray(r + 3);
        this.triggered = false;
      }
    }
  }
}
