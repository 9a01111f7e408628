import { describe, expect, it } from 'vitest';
import { todayStats, type HourBucket } from '../../../gateway/http/guard-api.js';
import { guardTexts } from '../../../gateway/http/guard-page.js';
import {
  ackBatches,
  alertLines,
  celsius,
  chartModel,
  checkpointInstant,
  checkpointLocalInput,
  clockTime,
  dateTime,
  feedMatches,
  textOf,
  zoneCount,
  zoneLoad,
  type AlertRow,
  type GuardEvent,
} from '../../../kiosk-ui/guard-view.js';

function hours(fill: Partial<Record<number, Partial<HourBucket>>> = {}): HourBucket[] {
  return Array.from({ length: 24 }, (_, hour) => ({ hour, admit: 0, refuse: 0, refer: 0, ...fill[hour] }));
}

describe('hour chart', () => {
  it('draws one bar per non-zero count, scaled to a round maximum, inside the plot', () => {
    const m = chartModel(hours({ 8: { admit: 40, refuse: 3 }, 17: { refer: 1 } }), 720, 220);
    expect(m.max).toBe(40);
    expect(m.bars.map((b) => [b.hour, b.series, b.n])).toEqual([
      [8, 'admit', 40],
      [8, 'refuse', 3],
      [17, 'refer', 1],
    ]);
    for (const b of m.bars) {
      expect(b.y + b.height).toBeCloseTo(m.baseline);
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(720);
    }
    const admit = m.bars[0]!;
    const refuse = m.bars[1]!;
    expect(admit.height / refuse.height).toBeCloseTo(40 / 3);
    expect(refuse.x).toBeGreaterThan(admit.x);
  });

  it('keeps an empty day drawable, with a small default scale', () => {
    const m = chartModel(hours());
    expect(m.bars).toEqual([]);
    expect(m.max).toBe(5);
    expect(m.hourLabels.map((l) => l.hour)).toEqual([0, 3, 6, 9, 12, 15, 18, 21]);
  });

  it('labels the y axis with whole numbers only, never 12.5 people', () => {
    for (const top of [1, 5, 6, 7, 12, 23, 25, 26, 99, 101, 240, 1234]) {
      const m = chartModel(hours({ 9: { admit: top } }));
      const values = m.grid.map((g) => g.value);
      expect(values.every(Number.isInteger), `${top}: ${values.join(', ')}`).toBe(true);
      expect(values[0]).toBe(0);
      expect(values.at(-1)).toBe(m.max);
      expect(m.max).toBeGreaterThanOrEqual(top);
      expect(values.length).toBeLessThanOrEqual(6);
      expect(values.length).toBeGreaterThanOrEqual(2);
    }
    expect(chartModel(hours({ 9: { admit: 23 } })).grid.map((g) => g.value)).toEqual([0, 5, 10, 15, 20, 25]);
  });

  it('ignores hours outside the day', () => {
    expect(chartModel([{ hour: 24, admit: 3, refuse: 0, refer: 0 }]).bars).toEqual([]);
  });
});

describe('console helpers', () => {
  it('shows temperatures to one decimal', () => {
    expect(celsius(36.54)).toBe('36.5 °C');
    expect(celsius(null)).toBe('');
  });

  it('filters the feed by lane and outcome', () => {
    const e = { lane: 'north', outcome: 'refuse' } as GuardEvent;
    expect(feedMatches(e, '', '')).toBe(true);
    expect(feedMatches(e, 'north', 'refuse')).toBe(true);
    expect(feedMatches(e, 'south', '')).toBe(false);
    expect(feedMatches(e, '', 'admit')).toBe(false);
  });

  it('shows a missing label as its key, so a gap is visible', () => {
    expect(textOf({ ui: {}, outcomes: {}, alertKinds: {}, categories: {}, overrideReasons: [], reasons: {} }, 'nope')).toEqual({ zh: 'nope', en: 'nope' });
  });

  it('sums passages by outcome and hour and counts overrides and faults apart', () => {
    const s = todayStats(
      [
        { hour: 8, kind: 'decision', outcome: 'admit', n: 5 },
        { hour: 8, kind: 'timeout', outcome: 'refer', n: 1 },
        { hour: 9, kind: 'override', outcome: 'admit', n: 2 },
        { hour: 9, kind: 'fault', outcome: 'refer', n: 1 },
      ],
      0,
    );
    expect(s.totals).toEqual({ admit: 5, refuse: 0, refer: 1, override: 2, fault: 1 });
    expect(s.hours[8]).toEqual({ hour: 8, admit: 5, refuse: 0, refer: 1 });
    expect(s.hours[9]).toEqual({ hour: 9, admit: 0, refuse: 0, refer: 0 });
  });
});

describe('zone card', () => {
  it('shows the count against the limit, or the count alone without a limit', () => {
    expect(zoneCount(12, 40)).toBe('12 / 40');
    expect(zoneCount(0, 40)).toBe('0 / 40');
    expect(zoneCount(7, null)).toBe('7');
  });

  it('calls a zone full at its limit and over above it; a zone without a limit is never full', () => {
    expect(zoneLoad(39, 40)).toBe('open');
    expect(zoneLoad(40, 40)).toBe('full');
    expect(zoneLoad(41, 40)).toBe('over');
    expect(zoneLoad(10_000, null)).toBe('open');
  });
});

describe('console times', () => {
  // The hourly chart and the reports count China time; the feed and the search fields must
  // too, or a console on a PC set to another zone shows an 08:00 bar beside a 00:00 row.
  const at = Date.UTC(2024, 11, 3, 16, 5, 9); // 2024-12-04 00:05:09 in China

  it('shows every time in China Standard Time, whatever zone the machine is in', () => {
    expect(clockTime(at)).toBe('00:05:09');
    expect(dateTime(at)).toBe('2024-12-04 00:05');
    expect(dateTime(new Date(at).toISOString())).toBe('2024-12-04 00:05');
  });

  it('reads the search fields as China time, and ignores an empty or broken field', () => {
    expect(checkpointInstant('2024-12-04T00:05')).toBe('2024-12-03T16:05:00.000Z');
    expect(checkpointInstant('2024-12-04T00:05:09')).toBe(new Date(at).toISOString());
    expect(checkpointInstant('')).toBeNull();
    expect(checkpointInstant('2024-13-40T99:99')).toBeNull();
  });

  it('fills a search field with China time, which reads back as the same minute', () => {
    expect(checkpointLocalInput(at)).toBe('2024-12-04T00:05');
    expect(checkpointInstant(checkpointLocalInput(at))).toBe('2024-12-03T16:05:00.000Z');
  });
});

describe('alert rows on the console', () => {
  const texts = guardTexts();
  function row(over: Partial<AlertRow>): AlertRow {
    return {
      ids: ['a-1'],
      state: 'open',
      lane: 'in-1',
      severity: 'critical',
      kinds: ['device-up'],
      codes: ['DEVICE_UP_THERMOMETER'],
      count: 1,
      first: 0,
      last: 0,
      passage: null,
      ackedBy: null,
      ackedAt: null,
      detail: null,
      ...over,
    };
  }

  it("says a passage's alerts with its reasons, and other alerts with the text of their code, never the code", () => {
    const passage = { id: 'e', seq: 1, at: '', kind: 'decision', outcome: 'refuse' as const, name: null, reasons: [{ code: 'TEMP_FEVER', zh: '体温偏高（38.2℃）', en: 'Temperature too high (38.2 °C)' }] };
    expect(alertLines(row({ passage, codes: ['TEMP_FEVER'] }), texts)).toEqual([{ zh: '体温偏高（38.2℃）', en: 'Temperature too high (38.2 °C)' }]);
    expect(alertLines(row({}), texts)).toEqual([{ zh: '测温仪已恢复', en: 'Thermometer back in service' }]);
    // A code from a newer gateway than this console: the kind's name, not the code.
    expect(alertLines(row({ kinds: ['tailgate'], codes: ['SOMETHING_NEW'] }), texts)).toEqual([{ zh: '无放行通过', en: 'Passage without admission' }]);
  });

  it('acknowledges the open rows shown, in batches the API takes, and never information or done rows', () => {
    const rows = [
      row({ ids: ['a', 'b', 'c'] }),
      row({ state: 'info', ids: ['i'] }),
      row({ state: 'done', ids: ['d'] }),
      row({ ids: ['e', 'f'] }),
    ];
    expect(ackBatches(rows, 2)).toEqual([['a', 'b'], ['c', 'e'], ['f']]);
    expect(ackBatches([], 2)).toEqual([]);
  });
});
