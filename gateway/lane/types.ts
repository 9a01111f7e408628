import type { DeviceState, DeviceStatus } from '../../drivers/types.js';
import type { Outcome, Reason, Text } from '../policy/types.js';

export type LaneState =
  | 'idle'
  /** A credential was read; waiting for a (re-)measurement. */
  | 'measuring'
  /** A decision is being shown; the next person may already present. */
  | 'showing'
  /** A device of the lane is down: every presentation is referred to the guard. */
  | 'out-of-service';

/** What the kiosk screen shows: never more personal data than a masked name. */
export interface DecisionView {
  eventId: string;
  at: number;
  outcome: Outcome;
  reasons: Reason[];
  /** e.g. "张*" */
  maskedName: string | null;
  temperature: number | null;
}

export interface LaneSnapshot {
  lane: string;
  name: string;
  state: LaneState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Set while measuring: what the person is asked to do. */
  prompt: Reason | null;
  last: DecisionView | null;
  devices: { scanner: DeviceStatus; thermometer: DeviceStatus; relay: DeviceStatus; sensor?: DeviceStatus };
  /** On a zone's entry lane: how full the zone is now, with the text the kiosk shows. */
  zone?: ZoneOccupancyView;
  /**
   * `off` when the lane checks no health (access control only): the kiosk and the console
   * then show no temperature or health wording. Absent = health checks on.
   */
  healthChecks?: 'off';
}

export interface ZoneOccupancyView {
  id: string;
  count: number;
  limit: number | null;
  /** At or over the limit: the next entry is held. */
  full: boolean;
  /** "已有12人，限40人" / "12 of 40 inside", or the ZONE_FULL text when full. */
  text: Text;
}

/** Simulated-device controls, present only for lanes whose devices are all `sim`. */
export interface LaneSimControls {
  scan(payload: string): void;
  temperature(celsius: number): void;
  /** Pulses the simulated relay received, oldest first. */
  relayPulses(): { at: number; ms: number }[];
  /** Someone walks through the simulated passage sensor (lanes that have one). */
  passage?(): void;
  /** Fault knob: unplug ('disconnected'), break ('fault') or replug ('connected') a simulated device. */
  setDeviceState?(device: 'scanner' | 'thermometer' | 'relay' | 'sensor', state: DeviceState): void;
}

export interface LaneHandle {
  readonly id: string;
  snapshot(): LaneSnapshot;
  readonly sim: LaneSimControls | null;
}

/** Cumulative driver counters per device of a lane; null where a device keeps none. */
export interface LaneDeviceCounters {
  scanner: Record<string, number> | null;
  thermometer: Record<string, number> | null;
  relay: Record<string, number> | null;
  sensor?: Record<string, number> | null;
}
