// Interfaces every device driver (real or simulated) offers to its user.
// Drivers never import the gateway: these types are the whole contract.
import type { EventEmitter } from 'node:events';

export type DeviceState = 'connected' | 'disconnected' | 'fault';

export interface DeviceStatus {
  /** Driver type, e.g. "sim", "gm65", "lu90614". */
  type: string;
  state: DeviceState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Human-readable detail for a fault or disconnect. */
  detail?: string;
}

export interface ThermometerReading {
  /** Compensated body temperature, °C. */
  celsius: number;
  /** Epoch ms the reading was taken. */
  at: number;
  /** Raw value from the device before compensation, when it differs. */
  raw?: number;
  mode?: string;
}

interface Device extends EventEmitter {
  readonly status: DeviceStatus;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Emits 'scan' (payload: Buffer) and 'status' (DeviceStatus). */
export interface ScannerDevice extends Device {}

/** Emits 'reading' (ThermometerReading) and 'status' (DeviceStatus). */
export interface ThermometerDevice extends Device {
  /** Ask for a reading; devices that stream readings may ignore it. */
  measure(): void;
}

/** Emits 'status' (DeviceStatus). */
export interface RelayDevice extends Device {
  /** Open the gate for `ms`, then close. Rejects when the command could not be delivered. */
  pulse(ms: number): Promise<void>;
  /** Close everything (start-up and shutdown). */
  allOff(): Promise<void>;
}
