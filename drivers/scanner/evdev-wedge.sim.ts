// Keyboard-wedge simulator: writes the input_event records a USB keyboard scanner
// produces (MSC_SCAN, key down/up, SYN_REPORT, shift around shifted characters, Enter).
import { encodeKeystrokes, KEY_LEFTSHIFT, KEY_RIGHTSHIFT } from './evdev-wedge.js';
import { ByteSim, type SimLink, type SimOptions } from './sim-base.js';

export interface EvdevWedgeSimOptions extends SimOptions {
  timevalBytes?: 16 | 8;
  /** Which shift key the "keyboard" uses. Default 'left'. */
  shift?: 'left' | 'right';
}

export class EvdevWedgeSim extends ByteSim {
  readonly #tv: 16 | 8;
  readonly #shiftKey: number;

  constructor(link: SimLink, options: EvdevWedgeSimOptions = {}) {
    super('evdev-wedge', link, options);
    this.#tv = options.timevalBytes ?? 16;
    this.#shiftKey = options.shift === 'right' ? KEY_RIGHTSHIFT : KEY_LEFTSHIFT;
  }

  encode(code: string): Buffer {
    return encodeKeystrokes(code, { timevalBytes: this.#tv, shiftKey: this.#shiftKey });
  }

  /** Type a code (printable US-ASCII only) followed by Enter. */
  async present(code: string | Buffer): Promise<void> {
    if (typeof code !== 'string') code = code.toString('latin1');
    // Evdev records carry no checksum: "corrupt" flips a byte of one record.
    await this.sendFrame(this.encode(code), 0);
  }

  protected onCommandBytes(): void {
    // keyboards receive nothing we model (LED reports are not on this path)
  }
}
