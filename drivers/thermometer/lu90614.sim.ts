// LU90614 simulator: answers `FA CA C4` with a 9-byte FE reply; `FA C5 BF` / `FA C6 C0`
// switch body/object mode. Commands with a bad sum are ignored, as the module does.
import { FixedFramer, trailingSum8 } from '../transport/framing.js';
import { ByteSim, type SimLink, type SimOptions } from '../scanner/sim-base.js';
import { encodeLu90614Reply, type Lu90614Mode } from './lu90614.js';

export interface Lu90614SimOptions extends SimOptions {
  /** Initial temperature, °C (undefined = out of range). Default 36.6. */
  celsius?: number;
  /** Object temperature reported in object mode; default body - 2.1 °C. */
  objectCelsius?: number;
}

export class Lu90614Sim extends ByteSim {
  celsius: number | undefined;
  objectCelsius: number | undefined;
  mode: Lu90614Mode = 'body';
  measureCommands = 0;
  readonly #rx: FixedFramer;

  constructor(link: SimLink, options: Lu90614SimOptions = {}) {
    super('lu90614', link, options);
    this.celsius = 'celsius' in options ? options.celsius : 36.6;
    this.objectCelsius = options.objectCelsius;
    // No inter-byte timeout on the device side: commands are 3 bytes and resync on FA.
    this.#rx = new FixedFramer({ start: [0xfa], length: 3, verify: trailingSum8, interByteTimeoutMs: 0 });
    this.#rx.on('frame', (cmd) => this.#command(cmd));
  }

  setTemperature(celsius: number | undefined): void {
    this.celsius = celsius;
  }

  /** The module reports FF FF (nobody in range / beyond its span). */
  setOutOfRange(): void {
    this.celsius = undefined;
  }

  protected onCommandBytes(chunk: Buffer): void {
    this.#rx.push(chunk);
  }

  #command(cmd: Buffer): void {
    switch (cmd[1]) {
      case 0xc5:
        this.mode = 'body';
        return;
      case 0xc6:
        this.mode = 'object';
        return;
      case 0xca: {
        this.measureCommands++;
        const value =
          this.mode === 'body' || this.celsius === undefined
            ? this.celsius
            : (this.objectCelsius ?? Math.round((this.celsius - 2.1) * 100) / 100);
        void this.sendFrame(encodeLu90614Reply(value), 1);
        return;
      }
      default:
        return;
    }
  }
}
