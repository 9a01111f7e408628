import { describe, expect, it } from 'vitest';
import { decide } from '../../../gateway/policy/decide.js';
import { profileFromOverrides } from '../../../gateway/policy/profiles.js';
import type { RiskArea } from '../../../gateway/policy/types.js';
import { NOW, daysAgo, input, iso, subject } from './fixtures.js';

// A stay overlapping an area's listed window [since, until] counts for N days after the
// stay (N = the travel rule's lookbackDays, 14 by default), whatever the profile sets.
const stayEnded = (days: number, region = "Xi'an") =>
  subject({ health: { travel: { riskLevel: 'none', visits: [{ region, from: daysAgo(days + 2), to: daysAgo(days) }], asOf: iso(NOW) } } });
const xian = (o: Partial<RiskArea> = {}): RiskArea => ({ region: "Xi'an", level: 'medium', since: daysAgo(30), until: null, ...o });
const outcome = (days: number, areas: RiskArea[], lookbackDays = 14) =>
  decide(input({ profile: profileFromOverrides({ riskLookbackDays: lookbackDays }), subject: stayEnded(days), facts: { riskAreas: areas }, readings: [36.5] })).outcome;

describe('the travel rule with dated risk areas', () => {
  it('follows a configured number of days after the stay: 7 refuses on day 7 and admits on day 8', () => {
    expect(outcome(7, [xian()], 7)).toBe('refuse');
    expect(outcome(8, [xian()], 7)).toBe('admit');
  });

  it('counts a stay on the last listed day of an area that is no longer listed', () => {
    expect(outcome(3, [xian({ since: daysAgo(30), until: daysAgo(3) })])).toBe('refuse');
  });

  it('does not count a stay that began after the area stopped being listed', () => {
    expect(outcome(1, [xian({ since: daysAgo(30), until: daysAgo(4) })])).toBe('admit');
  });

  it('does not count a stay that ended before the area was listed', () => {
    expect(outcome(5, [xian({ since: daysAgo(4) })])).toBe('admit');
  });

  it('ignores low-risk areas', () => {
    expect(outcome(1, [xian({ level: 'low' })])).toBe('admit');
  });
});
