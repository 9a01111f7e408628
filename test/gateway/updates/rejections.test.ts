// RejectionFolder: repeats of one cause become one alert with a count per window, and
// rejected responses are capped per cause and in total.
import { describe, expect, it } from 'vitest';
import { RejectionFolder } from '../../../gateway/updates/rejections.js';

describe('RejectionFolder', () => {
  it('alerts on the first rejection of a cause and folds its repeats within the window into one summary', () => {
    const f = new RejectionFolder({ windowMs: 60_000, responsesPerCause: 5, responsesPerWindow: 30 });
    const verdicts = Array.from({ length: 1000 }, (_, i) => f.record('UPDATE_MALFORMED', 'roster', 1000 + i));
    expect(verdicts.filter((v) => v.alert)).toHaveLength(1);
    expect(verdicts.filter((v) => v.respond)).toHaveLength(5);
    expect(f.due(30_000)).toEqual([]); // the window is still open
    expect(f.nextDue()).toBe(61_000);
    expect(f.due(61_000)).toEqual([{ cause: 'UPDATE_MALFORMED roster', code: 'UPDATE_MALFORMED', kind: 'roster', count: 999, first: 1001, last: 1999 }]);
  });

  it('gives a flood that goes on one summary per window, and forgets a cause after a quiet window', () => {
    const f = new RejectionFolder({ windowMs: 1000 });
    expect(f.record('UPDATE_KEY_UNKNOWN', 'policy', 0).alert).toBe(true);
    f.record('UPDATE_KEY_UNKNOWN', 'policy', 500);
    expect(f.due(1000).map((s) => s.count)).toEqual([1]);
    expect(f.record('UPDATE_KEY_UNKNOWN', 'policy', 1500).alert).toBe(false); // folded into the next window
    expect(f.due(2000).map((s) => s.count)).toEqual([1]);
    expect(f.due(3000)).toEqual([]); // quiet window: forgotten
    expect(f.nextDue()).toBeNull();
    expect(f.record('UPDATE_KEY_UNKNOWN', 'policy', 3500).alert).toBe(true);
  });

  it('keeps causes apart: another code or another kind alerts on its own', () => {
    const f = new RejectionFolder();
    expect(f.record('UPDATE_MALFORMED', 'roster', 0).alert).toBe(true);
    expect(f.record('UPDATE_MALFORMED', 'policy', 1).alert).toBe(true);
    expect(f.record('UPDATE_VERSION_STALE', 'roster', 2).alert).toBe(true);
    expect(f.record('UPDATE_MALFORMED', 'roster', 3).alert).toBe(false);
  });

  it('caps rejected responses over all causes per window', () => {
    const f = new RejectionFolder({ windowMs: 1000, responsesPerCause: 100, responsesPerWindow: 3 });
    const responded = Array.from({ length: 10 }, (_, i) => f.record('UPDATE_MALFORMED', `k${i % 2}`, i).respond);
    expect(responded.filter(Boolean)).toHaveLength(3);
    expect(f.record('UPDATE_MALFORMED', 'k0', 1000).respond).toBe(true); // the next window
  });

  it('hands over every open count at stop', () => {
    const f = new RejectionFolder();
    f.record('UPDATE_MALFORMED', 'roster', 0);
    f.record('UPDATE_MALFORMED', 'roster', 1);
    f.record('UPDATE_MALFORMED', 'policy', 2);
    expect(f.due(3, true).map((s) => [s.kind, s.count])).toEqual([['roster', 1]]);
    expect(f.nextDue()).toBeNull();
  });
});
