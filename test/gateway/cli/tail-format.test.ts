// `central tail` without --json: one readable line per message, China time first.
import { describe, expect, it } from 'vitest';
import { formatTailLine } from '../../../gateway/cli/tail-format.js';

const AT = '2022-12-05T00:30:15.250Z'; // 08:30:15 in China
const RECEIVED = Date.parse('2022-12-05T01:00:00Z');
const line = (topic: string, payload: unknown) => formatTailLine(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), 'checkpoints', RECEIVED);

describe('central tail lines', () => {
  it('shows an event with its time in China time, lane, outcome, reasons, temperature and pseudonym', () => {
    const event = { v: 1, id: 'e1', seq: 42, at: AT, site: 'mine-a', checkpoint: 'gate-1', lane: 'lane-2', kind: 'decision', outcome: 'refuse', reasons: ['FEVER', 'HEALTH_CODE_YELLOW'], alerts: [], credential: 'health-pass', subject: 'p1_Yx3lQ0c2m5VbN8aK1tR9wE', category: 'contractor', temperature: 38.2, historical: false };
    expect(line('checkpoints/mine-a/gate-1/events', event)).toBe('2022-12-05 08:30:15  mine-a/gate-1  #42  lane-2  refuse  FEVER,HEALTH_CODE_YELLOW  38.2 °C  health-pass  contractor  p1_Yx3lQ0c2m5VbN8aK1tR9wE');
  });

  it('shows alerts, summaries, status, stats and responses each in words', () => {
    expect(line('checkpoints/mine-a/gate-1/alerts', { v: 1, id: 'a1', at: AT, lane: 'lane-2', kind: 'fever', severity: 'critical', code: 'TEMP_FEVER', detail: 'Temperature 38.2 °C is at or above 37.3 °C' })).toBe(
      '2022-12-05 08:30:15  mine-a/gate-1  ALERT critical fever  lane-2  TEMP_FEVER  Temperature 38.2 °C is at or above 37.3 °C',
    );
    expect(line('checkpoints/mine-a/gate-1/screening', { v: 1, at: AT, date: '2022-12-04', workers: 312, screened: 305, notScreened: 7, firstOutcomes: { admit: 301, refuse: 3, refer: 1 } })).toBe(
      '2022-12-05 08:30:15  mine-a/gate-1  screening 2022-12-04: 305 of 312 workers screened, 7 not yet (first passages: admit 301, refuse 3, refer 1)',
    );
    expect(line('checkpoints/mine-a/gate-1/status', { v: 1, state: 'online', version: '0.1.0', lanes: [{ id: 'in-1' }], session: 17, at: AT })).toBe('2022-12-05 08:30:15  mine-a/gate-1  status online (version 0.1.0, 1 lane, session 17)');
    expect(line('checkpoints/mine-a/gate-1/status', { v: 1, state: 'offline', session: 17, cause: 'lost' })).toBe('2022-12-05 09:00:00  mine-a/gate-1  status offline (lost)');
    expect(line('checkpoints/mine-a/gate-1/stats', { v: 1, at: AT, lanes: { 'in-1': { admitted: 120, refused: 3, referred: 1 }, 'in-2': { admitted: 5, refused: 0, referred: 0 } }, outboxDepth: 0, unackedAlerts: 2, lastSeq: 5120, zones: { canteen: { count: 37, limit: 40 } } })).toBe(
      '2022-12-05 08:30:15  mine-a/gate-1  stats: admitted 125, refused 3, referred 1; outbox 0, unacknowledged alerts 2, last seq 5120; zones canteen 37/40',
    );
    expect(line('checkpoints/mine-a/gate-1/response/watchlist', { v: 1, status: 'rejected', kind: 'watchlist', version: 42, error: { code: 'UPDATE_VERSION_STALE', message: 'watchlist version 42 is not newer than the applied version 42' }, at: AT })).toBe(
      '2022-12-05 08:30:15  mine-a/gate-1  response watchlist v42 rejected  UPDATE_VERSION_STALE watchlist version 42 is not newer than the applied version 42',
    );
  });

  it('prints a message it cannot read as it came, at the time it arrived', () => {
    expect(line('checkpoints/mine-a/gate-1/events', 'not json')).toBe('2022-12-05 09:00:00  checkpoints/mine-a/gate-1/events  not json');
  });
});
