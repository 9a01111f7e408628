// docs/asyncapi.yaml is the contract: it parses, every schema compiles, its addresses are
// the topics the code builds, and the payload builders produce what it describes. (The
// MQTT tests also check every message they receive against it, see helpers.ts.)
import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../../../drivers/types.js';
import { CATEGORIES, type CredentialKind } from '../../../gateway/credentials/types.js';
import type { LaneState } from '../../../gateway/lane/types.js';
import type { Outcome } from '../../../gateway/policy/types.js';
import type { NewLedgerEntry } from '../../../gateway/store/types.js';
import { UPDATE_ERROR_CODES } from '../../../gateway/updates/errors.js';
import { UPDATE_KINDS } from '../../../gateway/updates/envelope.js';
import { toAlertMessage } from '../../../gateway/telemetry/alerts.js';
import { toEventMessage } from '../../../gateway/telemetry/event-message.js';
import { buildScreeningReport, screeningDay, screeningSummary } from '../../../gateway/screening/report.js';
import { StatsReporter } from '../../../gateway/telemetry/stats.js';
import { topicsFor } from '../../../gateway/telemetry/topics.js';
import { checkMessage, loadAsyncApi, schemaValidators } from './asyncapi.js';
import { CTX, newEntry, silentLogger } from './helpers.js';

const topics = topicsFor({ prefix: 'acme/checkpoints', ...CTX });

describe('docs/asyncapi.yaml', () => {
  it('is an AsyncAPI 3 document whose every payload schema compiles', () => {
    const doc = loadAsyncApi();
    expect(doc.asyncapi).toBe('3.0.0');
    expect([...schemaValidators().keys()]).toEqual(
      expect.arrayContaining(['StatusMessage', 'EventMessage', 'AlertMessage', 'StatsMessage', 'ScreeningSummaryMessage', 'UpdateJws', 'UpdateEnvelope', 'ResponseMessage']),
    );
  });

  it('names the same topics as topicsFor', () => {
    const fill = (address: string, kind = 'watchlist') =>
      address.replace('{prefix}', topics.prefix).replace('{site}', CTX.site).replace('{checkpoint}', CTX.checkpoint).replace('{kind}', kind);
    const { channels } = loadAsyncApi();
    expect(fill(channels.status!.address)).toBe(topics.status);
    expect(fill(channels.events!.address)).toBe(topics.events);
    expect(fill(channels.alerts!.address)).toBe(topics.alerts);
    expect(fill(channels.stats!.address)).toBe(topics.stats);
    expect(fill(channels.screening!.address)).toBe(topics.screening);
    expect(fill(channels.command!.address)).toBe(`${topics.cmd}/watchlist`);
    expect(fill(channels.response!.address)).toBe(`${topics.response}/watchlist`);
    expect(topics.cmdFilters.map((f) => f.replace('#', 'watchlist'))).toEqual([fill(channels.command!.address), fill(channels.siteCommand!.address)]);
  });

  it('accepts what the payload builders produce', () => {
    const row = { ...newEntry({ subjectRef: 'p1_Yx3lQ0c2m5VbN8aK1tR9wE' }), seq: 1 };
    expect(checkMessage(topics.events, JSON.stringify(toEventMessage(row, CTX)))).toEqual([]);
    const alert = { id: row.id, at: row.at, lane: null, kind: 'update-rejected', severity: 'warning' as const, code: 'UPDATE_MALFORMED', eventId: null, detail: 'x' };
    expect(checkMessage(topics.alerts, JSON.stringify(toAlertMessage(alert, CTX)))).toEqual([]);
    const stats = new StatsReporter({ ...CTX, topic: topics.stats, intervalMs: 0, now: Date.now, logger: silentLogger(), publish: () => true, outboxDepth: () => 3, unackedAlerts: () => 1, lanes: ['in-1'] });
    stats.record({ lane: 'in-1', kind: 'decision', outcome: 'refuse' });
    expect(stats.snapshot().lanes).toEqual({ 'in-1': { admitted: 0, refused: 1, referred: 0 } });
    expect(checkMessage(topics.stats, JSON.stringify(stats.snapshot()))).toEqual([]);
    expect(stats.snapshot()).not.toHaveProperty('zones');
    const withZones = new StatsReporter({ ...CTX, topic: topics.stats, intervalMs: 0, now: Date.now, logger: silentLogger(), publish: () => true, outboxDepth: () => 0, unackedAlerts: () => 0, lanes: ['in-1'], zones: () => ({ canteen: { count: 37, limit: 40 }, bathhouse: { count: 2, limit: null } }) });
    expect(withZones.snapshot().zones).toEqual({ canteen: { count: 37, limit: 40 }, bathhouse: { count: 2, limit: null } });
    expect(checkMessage(topics.stats, JSON.stringify(withZones.snapshot()))).toEqual([]);
    expect(checkMessage(topics.stats, JSON.stringify({ ...withZones.snapshot(), zones: { canteen: { count: -1, limit: 40 } } }))).not.toEqual([]);
    const day = screeningDay('2024-12-04');
    const report = buildScreeningReport(day, [], [], (id) => id);
    expect(checkMessage(topics.screening, JSON.stringify(screeningSummary(report, CTX, Date.now())))).toEqual([]);
  });

  it('refuses an event that carries a name, and a rejected response without its error', () => {
    const row = { ...newEntry(), seq: 1 };
    const withName = { ...toEventMessage(row, CTX), name: '张三' };
    expect(checkMessage(topics.events, JSON.stringify(withName)).join()).toContain('additional properties');
    const summary = screeningSummary(buildScreeningReport(screeningDay('2024-12-04'), [], [], (id) => id), CTX, Date.now());
    expect(checkMessage(topics.screening, JSON.stringify({ ...summary, notScreenedNames: ['张三'] })).join()).toContain('additional properties');
    const response = { v: 1, status: 'rejected', transaction: null, kind: 'watchlist', version: null, at: new Date().toISOString(), site: CTX.site, checkpoint: CTX.checkpoint };
    expect(checkMessage(`${topics.response}/watchlist`, JSON.stringify(response)).join()).toContain('error');
  });

  it('lists exactly the values of the code\'s unions, so a new member cannot drift from the contract', () => {
    // Records, not arrays: a member added to a union fails to compile here until listed.
    const laneStates: Record<LaneState, true> = { idle: true, measuring: true, showing: true, 'out-of-service': true };
    const deviceStates: Record<DeviceState, true> = { connected: true, disconnected: true, fault: true };
    const ledgerKinds: Record<NewLedgerEntry['kind'], true> = { decision: true, timeout: true, fault: true, override: true };
    const outcomes: Record<Outcome, true> = { admit: true, refuse: true, refer: true };
    const credentials: Record<CredentialKind, true> = { 'health-pass': true, 'staff-badge': true, dcc: true, unknown: true };
    const schemas = loadAsyncApi().components.schemas as Record<string, any>; // the parsed YAML: shape checked by the expectations below
    const lane = schemas.StatusMessage.properties.lanes.items.properties;
    const event = schemas.EventMessage.properties;
    const sorted = (v: readonly string[]) => [...v].sort();
    expect(sorted(lane.state.enum)).toEqual(sorted(Object.keys(laneStates)));
    expect(sorted(lane.devices.additionalProperties.properties.state.enum)).toEqual(sorted(Object.keys(deviceStates)));
    expect(sorted(event.kind.enum)).toEqual(sorted(Object.keys(ledgerKinds)));
    expect(sorted(event.outcome.enum)).toEqual(sorted(Object.keys(outcomes)));
    expect(sorted(event.credential.enum)).toEqual(sorted(Object.keys(credentials)));
    expect(sorted(event.category.oneOf[0].enum)).toEqual(sorted(CATEGORIES));
    expect(sorted(schemas.UpdateEnvelope.properties.kind.enum)).toEqual(sorted(UPDATE_KINDS));
    expect(sorted(schemas.ResponseMessage.properties.error.properties.code.enum)).toEqual(sorted(UPDATE_ERROR_CODES));
  });
});
