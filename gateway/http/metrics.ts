// GET /metrics in the Prometheus text format (prom-client). Gauges are read from the
// health report at scrape time, so they can never drift from /healthz; decisions are
// counted from the bus since the process started.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayBus } from '../bus.js';
import type { HealthReport } from './health.js';

export interface GatewayMetrics {
  registry: Registry;
  /** Unsubscribe from the bus (server close). */
  stop(): void;
}

export function createMetrics(deps: { bus: GatewayBus; health: () => HealthReport }): GatewayMetrics {
  // A registry per app: tests run several apps in one process.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'checkpoint_process_' });

  const decisions = new Counter({
    name: 'checkpoint_decisions_total',
    help: 'Ledger rows recorded since start, by lane, kind and outcome',
    labelNames: ['lane', 'kind', 'outcome'] as const,
    registers: [registry],
  });
  const stop = deps.bus.on('ledger', (row) => decisions.inc({ lane: row.lane, kind: row.kind, outcome: row.outcome }));

  // One health report per scrape, shared by the gauges below.
  let cached: { at: number; report: HealthReport } | null = null;
  const report = (): HealthReport => {
    const now = Date.now();
    if (!cached || now - cached.at > 100) cached = { at: now, report: deps.health() };
    return cached.report;
  };

  new Gauge({
    name: 'checkpoint_lane_in_service',
    help: '1 when the lane can decide, 0 while a device is down (every presentation is referred)',
    labelNames: ['lane'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const l of report().lanes) this.set({ lane: l.id }, l.state === 'out-of-service' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'checkpoint_device_connected',
    help: '1 when the device is connected, 0 when disconnected or faulty',
    labelNames: ['lane', 'device', 'type'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const l of report().lanes) {
        for (const [device, s] of Object.entries(l.devices)) this.set({ lane: l.id, device, type: s.type }, s.state === 'connected' ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'checkpoint_device_counter',
    help: 'Cumulative driver counters since the driver started (bytesDiscarded, badFrames, timeouts, replyTimeouts, …)',
    labelNames: ['lane', 'device', 'counter'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const l of report().lanes) {
        for (const [device, counters] of Object.entries(l.counters ?? {}) as [string, Record<string, number> | null][]) {
          for (const [counter, value] of Object.entries(counters ?? {})) this.set({ lane: l.id, device, counter }, value);
        }
      }
    },
  });
  new Gauge({
    name: 'checkpoint_outbox_depth',
    help: 'Events and alerts waiting in the SQLite outbox for the central office',
    registers: [registry],
    collect() {
      this.set(report().outboxDepth);
    },
  });
  new Gauge({
    name: 'checkpoint_mqtt_connected',
    help: '1 while the MQTT link to the central office is connected',
    registers: [registry],
    collect() {
      this.set(report().mqtt?.state === 'connected' ? 1 : 0);
    },
  });

  return { registry, stop };
}
