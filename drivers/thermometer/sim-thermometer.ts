import { SimDevice } from '../sim/sim-device.js';
import type { ThermometerDevice, ThermometerReading } from '../types.js';

/** A thermometer whose readings come from code; measure() requests are counted. */
export class SimThermometer extends SimDevice implements ThermometerDevice {
  measureRequests = 0;

  measure(): void {
    this.measureRequests++;
  }

  /** Deliver a reading; ignored while unplugged. */
  reading(celsius: number): boolean {
    if (!this.connected) return false;
    const reading: ThermometerReading = { celsius, at: this.now(), mode: 'body' };
    this.emit('reading', reading);
    return true;
  }
}
