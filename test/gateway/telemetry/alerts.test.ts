// Alerts: stored with their outbox row in one transaction, the decision's alerts inside
// the decision's own transaction, device transitions raised once, acknowledged once.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, isStoreError, openStore, type SqliteStore } from '../../../gateway/store/index.js';
import type { AlertRecord } from '../../../gateway/store/types.js';
import { AlertRaiser, DeviceAlerts, alertOutbox, decisionOutbox, type AlertInput } from '../../../gateway/telemetry/alerts.js';
import { topicsFor, type CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { checkMessage } from './asyncapi.js';
import { CTX, Cleanup, newEntry, silentLogger, tempDir } from './helpers.js';

let cleanup: Cleanup;
let store: SqliteStore;
let dir: string;
let topics: CheckpointTopics;

beforeEach(async () => {
  cleanup = new Cleanup();
  dir = await tempDir(cleanup, 'alerts');
  store = openStore(dir);
  cleanup.add(() => store.close());
  topics = topicsFor({ prefix: 'checkpoints', ...CTX });
});

afterEach(async () => {
  await cleanup.run();
});

function alert(over: Partial<AlertRecord> = {}): AlertRecord {
  return { id: randomUUID(), at: 1_670_000_000_000, lane: 'lane-1', kind: 'fever', severity: 'critical', code: 'TEMP_FEVER', eventId: null, detail: null, ...over };
}

const FEVER_REASON = { code: 'TEMP_FEVER', zh: '体温 38.2 °C', en: 'Temperature 38.2 °C is at or above 37.3 °C' };

describe('the alert store', () => {
  it('stores alerts with their outbox row and returns them newest first, filtered by lane and acknowledgement', () => {
    const a = alert({ lane: 'lane-1' });
    const b = alert({ lane: 'lane-2', at: 1_670_000_001_000, kind: 'device-down', code: 'DEVICE_DOWN_SCANNER' });
    store.appendAlert(a, alertOutbox(topics, CTX));
    store.appendAlert(b, alertOutbox(topics, CTX));
    expect(store.queryAlerts({}).map((x) => x.id)).toEqual([b.id, a.id]);
    expect(store.queryAlerts({ lane: 'lane-1' }).map((x) => x.id)).toEqual([a.id]);
    expect(store.queryAlerts({ from: 1_670_000_000_500 }).map((x) => x.id)).toEqual([b.id]);
    expect(store.outboxPending(10).map((r) => r.topic)).toEqual([topics.alerts, topics.alerts]);
    expect(store.unackedAlertCount()).toBe(2);

    expect(store.ackAlert(a.id, 'guard-7', 1_670_000_002_000)).toBe(true);
    expect(store.ackAlert(a.id, 'guard-8', 1_670_000_003_000)).toBe(false); // already acknowledged
    expect(store.ackAlert('no-such-alert', 'guard-7', 1)).toBe(false);
    expect(store.unackedAlertCount()).toBe(1);
    expect(store.queryAlerts({ unackedOnly: true }).map((x) => x.id)).toEqual([b.id]);
    expect(store.queryAlerts({ lane: 'lane-1' })[0]).toMatchObject({ ackedBy: 'guard-7', ackedAt: 1_670_000_002_000 });
  });

  it('counts a passage with several alerts once, and device-back (info) alerts not at all', () => {
    const passage = randomUUID();
    for (const [kind, code] of [
      ['health-code', 'HEALTH_CODE_RED'],
      ['risk-area', 'TRAVEL_RISK_AREA'],
      ['visitor-refused', 'VISITOR_NO_APPROVAL'],
    ] as const) {
      store.appendAlert(alert({ kind, code, eventId: passage }), () => null);
    }
    const down = alert({ kind: 'device-down', code: 'DEVICE_DOWN_THERMOMETER' });
    store.appendAlert(down, () => null);
    store.appendAlert(alert({ kind: 'device-up', severity: 'info', code: 'DEVICE_UP_THERMOMETER' }), () => null);
    expect(store.unackedAlertCount()).toBe(2);
    const [first] = store.queryAlerts({ unackedOnly: true }).filter((a) => a.eventId === passage);
    expect(store.ackAlert(first!.id, 'guard-7', 1_670_000_002_000)).toBe(true);
    expect(store.unackedAlertCount()).toBe(2); // two alerts of the passage are still open
    for (const a of store.queryAlerts({ unackedOnly: true }).filter((x) => x.eventId === passage)) store.ackAlert(a.id, 'guard-7', 1_670_000_002_000);
    expect(store.unackedAlertCount()).toBe(1);
    expect(store.ackAlert(down.id, 'guard-7', 1_670_000_003_000)).toBe(true);
    expect(store.unackedAlertCount()).toBe(0);
  });

  it('refuses a malformed alert or a repeated id and writes nothing', () => {
    const bad = alert({ code: 'lower case' });
    expect(() => store.appendAlert(bad, () => null)).toThrow(/STORE_INVALID_ROW.*code/);
    const a = alert();
    store.appendAlert(a, alertOutbox(topics, CTX));
    let caught: unknown;
    try {
      store.appendAlert(a, alertOutbox(topics, CTX));
    } catch (err) {
      caught = err;
    }
    expect(isStoreError(caught, 'STORE_DUPLICATE_EVENT')).toBe(true);
    expect(store.queryAlerts({})).toHaveLength(1);
    expect(store.outboxDepth()).toBe(1);
  });

  it('keeps an alert\'s facts fixed: only the acknowledgement may change, nothing may be deleted', () => {
    store.appendAlert(alert(), () => null);
    store.close();
    const db = new Database(join(dir, DATABASE_FILE));
    try {
      expect(() => db.prepare("UPDATE alerts SET severity = 'info'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM alerts').run()).toThrow(/append-only/);
      expect(db.prepare("UPDATE alerts SET acked_by = 'g', acked_at = 1").run().changes).toBe(1);
    } finally {
      db.close();
    }
    store = openStore(dir);
    cleanup.add(() => store.close());
  });
});

describe('alerts of a decision', () => {
  it('are written in the decision\'s transaction: ledger row, event, alert and its message together', () => {
    const row = store.appendDecision(
      newEntry({ outcome: 'refuse', reasons: [FEVER_REASON], alerts: [{ kind: 'fever', severity: 'critical', code: 'TEMP_FEVER' }], subjectName: '张三', temperature: 38.2 }),
      decisionOutbox(store, topics, CTX),
    );
    const [stored] = store.queryAlerts({});
    expect(stored).toMatchObject({ lane: row.lane, kind: 'fever', severity: 'critical', code: 'TEMP_FEVER', eventId: row.id, detail: FEVER_REASON.en });
    const rows = store.outboxPending(10);
    expect(rows.map((r) => r.topic).sort()).toEqual([topics.alerts, topics.events].sort());
    for (const r of rows) {
      expect(checkMessage(r.topic, r.payload)).toEqual([]);
      expect(r.payload).not.toContain('张三');
    }
  });

  it('roll the decision back with them when an alert cannot be stored', () => {
    const failing = {
      appendAlert: () => {
        throw new Error('disk full');
      },
    };
    const entry = newEntry({ alerts: [{ kind: 'fever', severity: 'critical', code: 'TEMP_FEVER' }], outcome: 'refuse' });
    expect(() => store.appendDecision(entry, decisionOutbox(failing, topics, CTX))).toThrow('disk full');
    expect(store.queryEvents({})).toEqual([]);
    expect(store.outboxDepth()).toBe(0);
  });
});

describe('AlertRaiser and DeviceAlerts', () => {
  function snapshot(scanner: 'connected' | 'disconnected' | 'fault', relay: 'connected' | 'fault' = 'connected'): LaneSnapshot {
    const dev = (state: 'connected' | 'disconnected' | 'fault') => ({ type: 'sim', state, since: 0 });
    return { lane: 'in-1', name: 'in-1', state: 'idle', since: 0, prompt: null, last: null, devices: { scanner: dev(scanner), thermometer: dev('connected'), relay: dev(relay) } };
  }

  it('raise a device-down alert once per outage and a device-up alert when it is back', () => {
    const raised: AlertRecord[] = [];
    const raiser = new AlertRaiser({ store, topics, ctx: CTX, now: () => 1_670_000_000_000, logger: silentLogger(), onAlert: (a) => raised.push(a) });
    const devices = new DeviceAlerts((a: AlertInput) => raiser.raise(a));
    devices.observe(snapshot('connected'));
    devices.observe(snapshot('disconnected'));
    devices.observe(snapshot('disconnected'));
    devices.observe(snapshot('fault'));
    devices.observe(snapshot('connected'));
    expect(raised.map((a) => [a.kind, a.code, a.severity])).toEqual([
      ['device-down', 'DEVICE_DOWN_SCANNER', 'critical'],
      ['device-up', 'DEVICE_UP_SCANNER', 'info'],
    ]);
    expect(store.queryAlerts({}).map((a) => a.kind)).toEqual(['device-up', 'device-down']);
    for (const r of store.outboxPending(10)) expect(checkMessage(r.topic, r.payload)).toEqual([]);
  });

  it('raise a device-down alert for a device that is already down at the first look', () => {
    const kinds: string[] = [];
    const devices = new DeviceAlerts((a) => kinds.push(`${a.kind}:${a.code}`));
    devices.observe(snapshot('connected', 'fault'));
    expect(kinds).toEqual(['device-down:DEVICE_DOWN_RELAY']);
  });
});
