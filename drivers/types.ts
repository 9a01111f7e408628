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
  /** Ambient temperature, °C, when the device reports it. */
  ambient?: number;
}

/**
 * The device answered a measure request, but not with a temperature: a value outside its
 * measuring range (LU90614 `FF FF`, a saturated MLX field, a GD60914 value off its span).
 */
export interface InvalidReading {
  /** Epoch ms of the answer. */
  at: number;
  /** Stable code, e.g. OUT_OF_RANGE. */
  code: string;
  detail: string;
}

interface Device extends EventEmitter {
  readonly status: DeviceStatus;
  /** Cumulative framing/protocol counters (discarded bytes, bad frames, timeouts…), for /healthz and metrics. */
  readonly counters?: Readonly<Record<string, number>>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Emits 'scan' (payload: Buffer) and 'status' (DeviceStatus). */
export interface ScannerDevice extends Device {}

/**
 * Emits 'reading' (ThermometerReading), 'invalid' (InvalidReading) and 'status'
 * (DeviceStatus). 'connected' means the device has answered since its port opened.
 */
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

/** Emits 'passage' (PassageEvent) once per person through the beam, and 'status' (DeviceStatus). */
export interface PassageSensorDevice extends Device {}

export interface PassageEvent {
  /** Epoch ms the beam cleared (the person is through). */
  at: number;
}

/**
 * A byte stream to a serial device (a real port or one end of a pty pair). The
 * transport's supervisor owns opening and reopening; device protocols only read and
 * write. Emits 'open', 'close' (with the Error when the device vanished) and 'data'
 * (Buffer).
 */
export interface ByteLink extends EventEmitter {
  readonly isOpen: boolean;
  /** Rejects when the link is closed or the write fails. */
  write(data: Buffer): Promise<void>;
}

/**
 * A USB HID device behind node-hid, reduced to what the drivers use so tests can put a
 * byte-exact fake in its place. Emits 'open', 'close' and 'data' (Buffer: one input report).
 */
export interface HidLink extends EventEmitter {
  readonly isOpen: boolean;
  write(data: Buffer): Promise<void>;
  sendFeatureReport(data: Buffer): Promise<number>;
  getFeatureReport(reportId: number, length: number): Promise<Buffer>;
}
