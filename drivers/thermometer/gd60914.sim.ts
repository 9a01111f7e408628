// GD60914 simulator: `A1` arms single-shot mode; then each `AA`/`AB`/`AC` is answered
// with 7 ASCII characters (tenths of °C, zero-padded, CR LF). Other bytes are ignored.
import { ByteSim, type SimLink, type SimOptions } from '../scanner/sim-base.js';
import { encodeGd60914Reply, GD60914_MODE_BYTES, type Gd60914Mode } from './gd60914.js';

export interface Gd60914SimOptions extends SimOptions {
  /** Default 36.5. */
  celsius?: number;
  /** Answer mode commands even before `A1` arrives. Default true (modules keep the mode). */
  singleShotArmed?: boolean;
}

export class Gd60914Sim extends ByteSim {
  celsius: number;
  singleShot: boolean;
  lastMode: Gd60914Mode | undefined;
  measureCommands = 0;

  constructor(link: SimLink, options: Gd60914SimOptions = {}) {
    super('gd60914', link, options);
    this.celsius = options.celsius ?? 36.5;
    this.singleShot = options.singleShotArmed ?? true;
  }

  setTemperature(celsius: number): void {
    this.celsius = celsius;
  }

  protected onCommandBytes(chunk: Buffer): void {
    for (const b of chunk) {
      if (b === 0xa1) {
        this.singleShot = true;
        continue;
      }
      const mode = (Object.keys(GD60914_MODE_BYTES) as Gd60914Mode[]).find((m) => GD60914_MODE_BYTES[m] === b);
      if (mode === undefined || !this.singleShot) continue;
      this.lastMode = mode;
      this.measureCommands++;
      // No checksum: "corrupt" replaces a digit with 0xFF (the host must refuse the frame).
      void this.sendFrame(encodeGd60914Reply(this.celsius), 0);
    }
  }
}
