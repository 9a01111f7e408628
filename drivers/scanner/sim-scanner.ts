import { SimDevice } from '../sim/sim-device.js';
import type { ScannerDevice } from '../types.js';

/** A scanner whose scans come from code (the sim HTTP endpoint, tests, benches). */
export class SimScanner extends SimDevice implements ScannerDevice {
  /** Present a code as if scanned; ignored while unplugged, like a real scanner. */
  scan(payload: string | Buffer): boolean {
    if (!this.connected) return false;
    this.emit('scan', typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload);
    return true;
  }
}
