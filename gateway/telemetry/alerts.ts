// Alerts: what the duty leader and the guard must look at now (fever, red code, watchlist
// hit, a device down, a rejected update, ...). Stored in SQLite and queued in the outbox
// in one transaction, so an alert is never lost and never published without its record.
// Alerts of a decision are written inside the decision's own transaction (see
// decisionOutbox): a decision without its alerts cannot exist.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DeviceStatus } from '../../drivers/types.js';
import type { LaneSnapshot } from '../lane/types.js';
import type { AlertRecord, AlertStore, LedgerEntry, OutboxMessage, ZoneCorrection } from '../store/types.js';
import { eventMessage, type EventMessageContext } from './event-message.js';
import type { CheckpointTopics } from './topics.js';

/** Kinds raised today; AlertRecord.kind stays a string so a new kind needs no migration. */
export const ALERT_KINDS = [
  'fever',
  'health-code',
  'risk-area',
  'watchlist',
  'visitor-refused',
  'forged-pass',
  'device-fault',
  'device-down',
  'device-up',
  'guard-override',
  'gate-held',
  'tailgate',
  'update-rejected',
  'zone-corrected',
  'clock-unsynced',
] as const;
export type KnownAlertKind = (typeof ALERT_KINDS)[number];

/** Version 1 of the payload on …/alerts. Fields are only ever added, never renamed. */
export interface AlertMessageV1 {
  v: 1;
  /** Stable alert id (UUID): the receiver drops duplicates by it. */
  id: string;
  at: string;
  site: string;
  checkpoint: string;
  lane: string | null;
  kind: string;
  severity: AlertRecord['severity'];
  code: string;
  /** The ledger event behind it (same id as on …/events), when one did. */
  eventId: string | null;
  detail: string | null;
  /** Occurrences folded into this alert (update-rejected: repeats of one cause); absent = 1. */
  count?: number;
}

export function toAlertMessage(a: AlertRecord, ctx: EventMessageContext): AlertMessageV1 {
  // Field by field, like the event payload: nothing else of the record can leak.
  return {
    v: 1,
    id: a.id,
    at: new Date(a.at).toISOString(),
    site: ctx.site,
    checkpoint: ctx.checkpoint,
    lane: a.lane,
    kind: a.kind,
    severity: a.severity,
    code: a.code,
    eventId: a.eventId,
    detail: a.detail,
    ...(a.count !== undefined ? { count: a.count } : {}),
  };
}

export function alertOutbox(topics: Pick<CheckpointTopics, 'alerts'>, ctx: EventMessageContext): (a: AlertRecord) => OutboxMessage {
  return (a) => ({ topic: topics.alerts, payload: JSON.stringify(toAlertMessage(a, ctx)), qos: 1 });
}

/** One AlertRecord per alert of a stored decision; the detail is the reason's English text. */
export function alertsOfDecision(row: LedgerEntry, newId: () => string = randomUUID): AlertRecord[] {
  return row.alerts.map((a) => ({
    id: newId(),
    at: row.at,
    lane: row.lane,
    kind: a.kind,
    severity: a.severity,
    code: a.code,
    eventId: row.id,
    // Reason texts come from the policy catalogue (numbers, regions, dates), never a name.
    detail: row.reasons.find((r) => r.code === a.code)?.en.slice(0, 500) ?? null,
  }));
}

/**
 * The toOutbox callback for appendDecision: queues the event and, inside the same
 * transaction (better-sqlite3 nests the alert insert as a savepoint), one alert per
 * alert of the decision.
 */
export function decisionOutbox(
  store: Pick<AlertStore, 'appendAlert'>,
  topics: Pick<CheckpointTopics, 'events' | 'alerts'>,
  ctx: EventMessageContext,
): (row: LedgerEntry) => OutboxMessage {
  const toAlert = alertOutbox(topics, ctx);
  const toEvent = eventOutbox(topics, ctx);
  return (row) => {
    for (const alert of alertsOfDecision(row)) store.appendAlert(alert, toAlert);
    return toEvent(row);
  };
}

/** The outbox message of a ledger row's event: the live path and a resend build it here alike. */
export function eventOutbox(topics: Pick<CheckpointTopics, 'events'>, ctx: EventMessageContext): (row: LedgerEntry) => OutboxMessage {
  return (row) => ({ topic: topics.events, payload: eventMessage(row, ctx), qos: 1 });
}

export type AlertInput = Omit<AlertRecord, 'id' | 'at'> & { id?: string; at?: number };

/**
 * A zone's count was set by a guard or by a scheduled reset: the office sees who moved it
 * and by how much. The guard's reason stays local (free text may name people).
 */
export function zoneCorrectedAlert(c: ZoneCorrection, scheduled: boolean): AlertInput {
  return {
    at: c.at,
    lane: null,
    kind: 'zone-corrected',
    severity: 'info',
    code: 'ZONE_COUNT_CORRECTED',
    eventId: null,
    detail: `zone ${c.zone}: ${c.from} → ${c.to}, ${scheduled ? 'scheduled reset' : `corrected by guard ${c.guard}`}`,
  };
}

export interface AlertRaiserOptions {
  store: Pick<AlertStore, 'appendAlert'>;
  topics: CheckpointTopics;
  ctx: EventMessageContext;
  now: () => number;
  logger: Logger;
  /** After the alert is committed: wake the outbox drain, tell the console. */
  onAlert?: (alert: AlertRecord) => void;
}

/** Raises alerts that belong to no decision (devices, overrides, updates). */
export class AlertRaiser {
  readonly #o: AlertRaiserOptions;
  readonly #toOutbox: (a: AlertRecord) => OutboxMessage;

  constructor(options: AlertRaiserOptions) {
    this.#o = options;
    this.#toOutbox = alertOutbox(options.topics, options.ctx);
  }

  /** Stores and queues the alert; throws (StoreError) when it could not be stored. */
  raise(input: AlertInput): AlertRecord {
    const alert: AlertRecord = {
      id: input.id ?? randomUUID(),
      at: input.at ?? this.#o.now(),
      lane: input.lane,
      kind: input.kind,
      severity: input.severity,
      code: input.code,
      eventId: input.eventId,
      detail: input.detail,
    };
    this.#o.store.appendAlert(alert, this.#toOutbox);
    this.#o.logger.warn({ alert: { kind: alert.kind, code: alert.code, lane: alert.lane, severity: alert.severity } }, 'alert raised');
    try {
      this.#o.onAlert?.(alert);
    } catch (err) {
      this.#o.logger.error({ err }, 'alert handler threw');
    }
    return alert;
  }

  /** Within an open transaction: the caller's commit decides whether it exists. */
  toOutbox(alert: AlertRecord): OutboxMessage {
    return this.#toOutbox(alert);
  }
}

type DeviceName = keyof LaneSnapshot['devices'];
const DEVICE_NAMES: readonly DeviceName[] = ['scanner', 'thermometer', 'relay', 'sensor'];

/** The code of a device's down or up alert: DEVICE_DOWN_THERMOMETER, DEVICE_UP_RELAY, ... */
export function deviceAlertCode(up: boolean, device: DeviceName): string {
  return `DEVICE_${up ? 'UP' : 'DOWN'}_${device.toUpperCase()}`;
}

/** Every code DeviceAlerts can raise (the console has a text for each). */
export const DEVICE_ALERT_CODES: readonly string[] = DEVICE_NAMES.flatMap((d) => [deviceAlertCode(false, d), deviceAlertCode(true, d)]);

/**
 * Device down/up alerts from successive lane snapshots: only transitions count, so a
 * device that stays down raises one alert, not one per snapshot.
 */
export class DeviceAlerts {
  readonly #last = new Map<string, boolean>();
  readonly #raise: (a: AlertInput) => void;

  constructor(raise: (a: AlertInput) => void) {
    this.#raise = raise;
  }

  observe(snapshot: LaneSnapshot): void {
    for (const name of DEVICE_NAMES) {
      const status: DeviceStatus | undefined = snapshot.devices[name];
      if (status === undefined) continue;
      const up = status.state === 'connected';
      const key = `${snapshot.lane}/${name}`;
      const was = this.#last.get(key);
      this.#last.set(key, up);
      // The first look is the baseline; a device that starts down is still worth an alert.
      if (was === up || (was === undefined && up)) continue;
      const code = deviceAlertCode(up, name);
      this.#raise({
        lane: snapshot.lane,
        kind: up ? 'device-up' : 'device-down',
        severity: up ? 'info' : 'critical',
        code,
        eventId: null,
        detail: up
          ? `${name} back in service`
          : name === 'sensor'
            ? `passage sensor ${status.state}: the zone's count is not kept until it is back`
            : `${name} ${status.state}: lane refers everyone to the guard`,
      });
    }
  }
}
