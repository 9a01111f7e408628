import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BeamEdgeDetector, type BeamEvent } from '../../../drivers/sensor/beam.js';

const rules = { minActiveMs: 40, stuckAfterMs: 30_000 };

/** Feed [broken, at] samples; return the events. */
function feed(d: BeamEdgeDetector, samples: [boolean, number][]): BeamEvent[] {
  return samples.map(([b, at]) => d.sample(b, at)).filter((e): e is BeamEvent => e !== null);
}

describe('beam edge and debounce rules', () => {
  it('counts one passage when the beam is broken long enough and then clears, at the time it cleared', () => {
    const events = feed(new BeamEdgeDetector(rules), [
      [false, 0],
      [true, 50],
      [true, 100],
      [true, 150],
      [false, 200],
    ]);
    expect(events).toEqual([{ kind: 'passage', at: 200, brokenMs: 100 }]);
  });

  it('counts nothing while the beam is still broken', () => {
    expect(feed(new BeamEdgeDetector(rules), [[true, 0], [true, 500], [true, 1000]])).toEqual([]);
  });

  it('ignores a bounce seen broken for less than minActiveMs', () => {
    const events = feed(new BeamEdgeDetector(rules), [
      [true, 0],
      [true, 30],
      [false, 60],
    ]);
    expect(events).toEqual([{ kind: 'bounce', at: 60, brokenMs: 30 }]);
  });

  it('ignores a single broken sample, because one noisy reading is not a person', () => {
    expect(feed(new BeamEdgeDetector(rules), [[true, 0], [false, 200]])).toEqual([{ kind: 'bounce', at: 200, brokenMs: 0 }]);
  });

  it('does not count someone standing in the beam at start-up until the beam clears after minActiveMs', () => {
    const d = new BeamEdgeDetector(rules);
    expect(feed(d, [[true, 1000], [true, 1020]])).toEqual([]);
    expect(feed(d, [[false, 1040]])).toEqual([{ kind: 'bounce', at: 1040, brokenMs: 20 }]);
    expect(feed(d, [[true, 2000], [true, 2100], [false, 2150]])).toEqual([{ kind: 'passage', at: 2150, brokenMs: 100 }]);
  });

  it('reports a beam held broken past stuckAfterMs once and never counts it as a passage', () => {
    const d = new BeamEdgeDetector({ minActiveMs: 40, stuckAfterMs: 1000 });
    const events = feed(d, [[true, 0], [true, 500], [true, 1001], [true, 1500], [false, 2000]]);
    expect(events).toEqual([{ kind: 'stuck', since: 0 }, { kind: 'unstuck', at: 2000, brokenMs: 1500 }]);
    expect(d.stuck).toBe(false);
  });

  it('drops the run in progress on reset, so a run whose end was not seen is not counted', () => {
    const d = new BeamEdgeDetector(rules);
    feed(d, [[true, 0], [true, 100]]);
    d.reset();
    expect(feed(d, [[false, 200]])).toEqual([]);
  });

  it('refuses rules where a stuck beam would come before a person', () => {
    expect(() => new BeamEdgeDetector({ minActiveMs: 100, stuckAfterMs: 100 })).toThrow(/INVALID_ARGUMENT/);
    expect(() => new BeamEdgeDetector({ minActiveMs: -1, stuckAfterMs: 100 })).toThrow(/INVALID_ARGUMENT/);
  });
});

/** The rule restated independently: split into maximal broken runs that end in a clear sample. */
function expectedPassages(samples: { broken: boolean; at: number }[], minActiveMs: number, stuckAfterMs: number): number[] {
  const out: number[] = [];
  let run: number[] = [];
  for (const s of samples) {
    if (s.broken) run.push(s.at);
    else {
      if (run.length > 0) {
        const len = run[run.length - 1]! - run[0]!;
        const stuck = run.some((t) => t - run[0]! > stuckAfterMs);
        if (len >= minActiveMs && !stuck) out.push(s.at);
      }
      run = [];
    }
  }
  return out;
}

describe('beam rules as a property', () => {
  const samplesArb = fc
    .array(fc.record({ broken: fc.boolean(), gap: fc.integer({ min: 0, max: 200 }) }), { maxLength: 200 })
    .map((xs) => {
      let at = 1_700_000_000_000;
      return xs.map(({ broken, gap }) => ({ broken, at: (at += gap) }));
    });

  it('any sequence of beam samples yields exactly one passage per completed broken run of at least minActiveMs, at its clearing', () => {
    fc.assert(
      fc.property(samplesArb, fc.integer({ min: 0, max: 400 }), (samples, minActiveMs) => {
        const d = new BeamEdgeDetector({ minActiveMs, stuckAfterMs: 1_000_000 });
        const passages = samples.flatMap((s) => {
          const e = d.sample(s.broken, s.at);
          return e?.kind === 'passage' ? [e.at] : [];
        });
        expect(passages).toEqual(expectedPassages(samples, minActiveMs, 1_000_000));
      }),
    );
  });

  it('never counts a run held broken past stuckAfterMs, whatever the samples', () => {
    fc.assert(
      fc.property(samplesArb, fc.integer({ min: 0, max: 100 }), fc.integer({ min: 101, max: 800 }), (samples, minActiveMs, stuckAfterMs) => {
        const d = new BeamEdgeDetector({ minActiveMs, stuckAfterMs });
        const passages = samples.flatMap((s) => {
          const e = d.sample(s.broken, s.at);
          return e?.kind === 'passage' ? [e.at] : [];
        });
        expect(passages).toEqual(expectedPassages(samples, minActiveMs, stuckAfterMs));
      }),
    );
  });
});
