// The console's alert rows: one row per passage, repeats folded with a count, information
// apart from what needs acknowledging.
import { describe, expect, it } from 'vitest';
import { alertRows } from '../../../gateway/http/guard-alerts.js';
import { reason } from '../../../gateway/policy/reasons.js';
import type { LedgerEntry, StoredAlert } from '../../../gateway/store/types.js';

const T = Date.parse('2024-12-04T10:00:00+08:00');
let seq = 0;

function passage(id: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  seq += 1;
  return {
    seq,
    id,
    at: T,
    lane: 'in-1',
    kind: 'decision',
    outcome: 'refuse',
    reasons: [reason('HEALTH_CODE_RED'), reason('TRAVEL_RISK_AREA', { level: 'high' }), reason('VISITOR_NO_APPROVAL')],
    alerts: [],
    credential: 'health-pass',
    subjectRef: 'p1_visitor',
    subjectName: '赵访客',
    category: 'visitor',
    temperature: 36.5,
    ...over,
  };
}

function alert(id: string, over: Partial<StoredAlert> = {}): StoredAlert {
  return { id, at: T, lane: 'in-1', kind: 'health-code', severity: 'critical', code: 'HEALTH_CODE_RED', eventId: null, detail: null, ackedBy: null, ackedAt: null, ...over };
}

/** The three alerts a refusal for a red code, a high-risk area and no approval raises. */
function refusalAlerts(eventId: string, at: number, prefix: string): StoredAlert[] {
  return [
    alert(`${prefix}-3`, { at, eventId, kind: 'visitor-refused', severity: 'warning', code: 'HEALTH_CODE_RED' }),
    alert(`${prefix}-2`, { at, eventId, kind: 'risk-area', code: 'TRAVEL_RISK_AREA' }),
    alert(`${prefix}-1`, { at, eventId, kind: 'health-code', code: 'HEALTH_CODE_RED' }),
  ];
}

describe('alert rows', () => {
  it('shows the three alerts of one refusal as one row with the passage and its reasons', () => {
    const e = passage('ev-1');
    const rows = alertRows(refusalAlerts('ev-1', T, 'a'), new Map([[e.id, e]]));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      ids: ['a-1', 'a-2', 'a-3'],
      state: 'open',
      severity: 'critical',
      kinds: ['health-code', 'risk-area', 'visitor-refused'],
      count: 1,
      passage: { id: 'ev-1', outcome: 'refuse', name: '赵访客' },
    });
    expect(rows[0]!.passage!.reasons.map((r) => r.code)).toEqual(['HEALTH_CODE_RED', 'TRAVEL_RISK_AREA', 'VISITOR_NO_APPROVAL']);
    expect(rows[0]!.passage!.reasons[0]).not.toHaveProperty('next');
  });

  it('folds the same person refused again for the same reasons into one row with a count, but not another person', () => {
    const first = passage('ev-1', { at: T });
    const again = passage('ev-2', { at: T + 60_000 });
    const other = passage('ev-3', { at: T + 120_000, subjectRef: 'p1_other', subjectName: '钱访客' });
    const alerts = [...refusalAlerts('ev-3', T + 120_000, 'c'), ...refusalAlerts('ev-2', T + 60_000, 'b'), ...refusalAlerts('ev-1', T, 'a')];
    const rows = alertRows(alerts, new Map([first, again, other].map((e) => [e.id, e])));
    expect(rows.map((r) => [r.passage?.name, r.count])).toEqual([
      ['钱访客', 1],
      ['赵访客', 2],
    ]);
    expect(rows[1]).toMatchObject({ first: T, last: T + 60_000, passage: { id: 'ev-2' } });
    expect(rows[1]!.ids.sort()).toEqual(['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'b-3']);
  });

  it('folds a device that keeps dropping out, and keeps its back-in-service alerts apart as information', () => {
    const alerts: StoredAlert[] = [];
    for (let i = 3; i >= 1; i--) {
      alerts.push(alert(`up-${i}`, { at: T + i * 1000 + 500, kind: 'device-up', severity: 'info', code: 'DEVICE_UP_THERMOMETER' }));
      alerts.push(alert(`down-${i}`, { at: T + i * 1000, kind: 'device-down', code: 'DEVICE_DOWN_THERMOMETER', detail: 'thermometer disconnected' }));
    }
    const rows = alertRows(alerts, new Map());
    expect(rows.map((r) => [r.state, r.codes, r.count])).toEqual([
      ['open', ['DEVICE_DOWN_THERMOMETER'], 3],
      ['info', ['DEVICE_UP_THERMOMETER'], 3],
    ]);
    expect(rows[0]).toMatchObject({ passage: null, detail: 'thermometer disconnected', first: T + 1000, last: T + 3000 });
  });

  it('lists what is open first, then information and acknowledged rows newest first, with who acknowledged', () => {
    const alerts = [
      alert('new-info', { at: T + 3000, kind: 'device-up', severity: 'info', code: 'DEVICE_UP_SCANNER' }),
      alert('done', { at: T + 2000, kind: 'fever', code: 'TEMP_FEVER', ackedBy: 'G-01', ackedAt: T + 2500 }),
      alert('old-open', { at: T, kind: 'tailgate', severity: 'warning', code: 'PASSAGE_WITHOUT_ADMISSION' }),
    ];
    const rows = alertRows(alerts, new Map());
    expect(rows.map((r) => [r.ids[0], r.state])).toEqual([
      ['old-open', 'open'],
      ['new-info', 'info'],
      ['done', 'done'],
    ]);
    expect(rows[2]).toMatchObject({ ackedBy: 'G-01', ackedAt: T + 2500 });
    expect(rows[0]).toMatchObject({ ackedBy: null, ackedAt: null });
  });

  it('keeps a passage open while any of its alerts is unacknowledged', () => {
    const e = passage('ev-1');
    const alerts = refusalAlerts('ev-1', T, 'a').map((a, i) => (i === 0 ? a : { ...a, ackedBy: 'G-01', ackedAt: T + 1 }));
    expect(alertRows(alerts, new Map([[e.id, e]]))[0]).toMatchObject({ state: 'open', count: 1 });
  });
});
