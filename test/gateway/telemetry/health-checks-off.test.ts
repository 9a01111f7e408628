// What goes out on MQTT with health checks off (issue 14 item 4): an event built from any
// ledger row (a resend of a row stored before the switch too) carries no temperature and
// no health reason or alert; the birth says the mode and still fits docs/asyncapi.yaml.
import { describe, expect, it } from 'vitest';
import { reason } from '../../../gateway/policy/reasons.js';
import type { LedgerEntry } from '../../../gateway/store/types.js';
import { eventMessage } from '../../../gateway/telemetry/event-message.js';
import { checkMessage } from './asyncapi.js';

const row: LedgerEntry = {
  seq: 7,
  id: '0b6f3c2e-8d1a-4c5e-9f7a-2b3c4d5e6f70',
  at: Date.UTC(2022, 11, 5, 8, 30),
  lane: 'in-1',
  kind: 'decision',
  outcome: 'refuse',
  reasons: [reason('TEMP_FEVER', { celsius: 38.2 }), reason('VISITOR_NO_APPROVAL')],
  alerts: [
    { kind: 'fever', severity: 'critical', code: 'TEMP_FEVER' },
    { kind: 'visitor-refused', severity: 'warning', code: 'VISITOR_NO_APPROVAL' },
  ],
  credential: 'health-pass',
  subjectRef: null,
  subjectName: '张伟',
  category: 'visitor',
  temperature: 38.2,
};
const TOPIC = 'checkpoints/mine-a/gate-1/events';

describe('events with health checks off', () => {
  it('carry no temperature, health reason or health alert, whatever the row held', () => {
    const payload = eventMessage(row, { site: 'mine-a', checkpoint: 'gate-1', healthChecks: () => 'off' });
    expect(JSON.parse(payload)).toMatchObject({
      reasons: ['VISITOR_NO_APPROVAL'],
      alerts: [{ kind: 'visitor-refused', severity: 'warning', code: 'VISITOR_NO_APPROVAL' }],
      temperature: null,
    });
    expect(payload).not.toMatch(/TEMP_|fever|38\.2/);
    expect(checkMessage(TOPIC, payload)).toEqual([]);
  });

  it('are as before with health checks on', () => {
    const payload = JSON.parse(eventMessage(row, { site: 'mine-a', checkpoint: 'gate-1', healthChecks: () => 'on' })) as Record<string, unknown>;
    expect(payload).toMatchObject({ reasons: ['TEMP_FEVER', 'VISITOR_NO_APPROVAL'], temperature: 38.2 });
  });
});

describe('the birth message with the health checks mode', () => {
  const birth = (extra: Record<string, unknown>, lane: Record<string, unknown> = {}) =>
    JSON.stringify({
      v: 1,
      state: 'online',
      session: 3,
      at: '2022-12-05T08:30:00.000Z',
      site: 'mine-a',
      checkpoint: 'gate-1',
      version: '0.1.0',
      configHash: `sha256:${'0'.repeat(32)}`,
      lanes: [{ id: 'in-1', state: 'idle', devices: { scanner: { type: 'sim', state: 'connected' } }, ...lane }],
      ...extra,
    });

  it('fits the schema with the mode, with a lane marked access-only, and without either (older gateways)', () => {
    const topic = 'checkpoints/mine-a/gate-1/status';
    expect(checkMessage(topic, birth({ healthChecks: 'off' }, { healthChecks: 'off' }))).toEqual([]);
    expect(checkMessage(topic, birth({ healthChecks: 'on' }))).toEqual([]);
    expect(checkMessage(topic, birth({}))).toEqual([]);
    expect(checkMessage(topic, birth({ healthChecks: 'maybe' }))).not.toEqual([]);
    expect(checkMessage(topic, birth({}, { healthChecks: 'on' }))).not.toEqual([]);
  });
});
