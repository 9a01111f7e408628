// The shape of GET /healthz, and one way to build it from the parts main.ts holds.
import type { DeviceStatus } from '../../drivers/types.js';
import type { LinkStatus } from '../bus.js';
import type { LaneDeviceCounters, LaneSnapshot, LaneState } from '../lane/types.js';

export interface LaneHealth {
  id: string;
  state: LaneState;
  devices: LaneSnapshot['devices'];
  /** Drivers' discarded-byte, bad-frame and timeout counters, when the gateway supplies them. */
  counters?: LaneDeviceCounters;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  uptimeS: number;
  site: string;
  checkpoint: string;
  lanes: LaneHealth[];
  /** null when telemetry is not configured. */
  mqtt: LinkStatus | null;
  outboxDepth: number;
}

export interface HealthInputs {
  version: string;
  /** Epoch ms the process started. */
  startedAt: number;
  site: string;
  checkpoint: string;
  lanes: readonly LaneSnapshot[];
  /** The MQTT link's current status, null when telemetry is not configured. */
  mqtt: LinkStatus | null;
  outboxDepth: number;
  now: number;
  /** Device counters by lane id. */
  counters?: ReadonlyMap<string, LaneDeviceCounters>;
}

function deviceDown(d: DeviceStatus): boolean {
  return d.state !== 'connected';
}

/**
 * Degraded means someone should look: a device is not connected, a lane is out of
 * service, or the link to the central office is down. A down link does not stop the
 * gate (offline first), but telemetry is piling up in the outbox, so it is reported.
 */
export function buildHealthReport(input: HealthInputs): HealthReport {
  const lanes = input.lanes.map((s): LaneHealth => {
    const counters = input.counters?.get(s.lane);
    return { id: s.lane, state: s.state, devices: s.devices, ...(counters ? { counters } : {}) };
  });
  // A lane without health checks does not need its thermometer: one down is no trouble.
  const needed = (s: LaneSnapshot): DeviceStatus[] => Object.entries(s.devices).filter(([k]) => k !== 'thermometer' || s.healthChecks !== 'off').map(([, d]) => d);
  const laneTrouble = input.lanes.some((s) => s.state === 'out-of-service' || needed(s).some(deviceDown));
  const linkTrouble = input.mqtt !== null && input.mqtt.state === 'disconnected';
  return {
    status: laneTrouble || linkTrouble ? 'degraded' : 'ok',
    version: input.version,
    uptimeS: Math.max(0, Math.floor((input.now - input.startedAt) / 1000)),
    site: input.site,
    checkpoint: input.checkpoint,
    lanes,
    mqtt: input.mqtt,
    outboxDepth: input.outboxDepth,
  };
}
