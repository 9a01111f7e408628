import { SimDevice } from '../sim/sim-device.js';
import type { PassageEvent, PassageSensorDevice } from '../types.js';

/** A passage sensor whose passages come from code (the demo, tests, benches). */
export class SimPassageSensor extends SimDevice implements PassageSensorDevice {
  /** Passages emitted, for assertions. */
  readonly passages: PassageEvent[] = [];

  /** Someone went through at `at` (default now); ignored while not connected, like a real sensor. */
  pass(at?: number): boolean {
    if (!this.connected) return false;
    const event: PassageEvent = { at: at ?? this.now() };
    this.passages.push(event);
    this.emit('passage', event);
    return true;
  }
}
