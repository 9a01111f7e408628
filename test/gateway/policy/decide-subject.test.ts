import { describe, expect, it } from 'vitest';
import type { Category, Subject, Visit } from '../../../gateway/credentials/types.js';
import { decide } from '../../../gateway/policy/decide.js';
import { profileFromOverrides } from '../../../gateway/policy/profiles.js';
import type { Alert, Approval, Decision, RiskArea, Verdict, WatchlistEntry } from '../../../gateway/policy/types.js';
import { DAY, HOUR, MINUTE, NOW, SECOND, crew, daysAgo, input, iso, subject } from './fixtures.js';

/** The reason codes of a verdict; a measure request means every subject check passed. */
function codes(v: Verdict): string[] {
  return v.outcome === 'measure' ? [] : v.reasons.map((r) => r.code);
}
function decision(v: Verdict): Decision {
  if (v.outcome === 'measure') throw new Error(`expected a decision, got a request to measure (${v.reason.code})`);
  return v;
}
const PASSES: string[] = [];

describe('decide: category', () => {
  const employeesOnly = profileFromOverrides({ allowedCategories: ['employee', 'family'] });
  it.each<[string, Category, string[]]>([
    ['refuses a visitor at a checkpoint for employees and families only, approval or not', 'visitor', ['CATEGORY_NOT_ALLOWED', 'VISITOR_NO_APPROVAL']],
    ['refuses a vendor at a checkpoint for employees and families only', 'vendor', ['CATEGORY_NOT_ALLOWED']],
    ['lets a family member go on to the temperature check', 'family', PASSES],
  ])('%s', (_n, category, expected) => {
    expect(codes(decide(input({ subject: subject({ category }), profile: employeesOnly })))).toEqual(expected);
  });

  it('names the category in the text', () => {
    const v = decision(decide(input({ subject: subject({ category: 'vendor' }), profile: employeesOnly })));
    expect(v.reasons[0]).toMatchObject({ zh: '此处不对商户开放', en: 'Not open to vendors here' });
  });
});

describe('decide: health code (rule 1)', () => {
  it.each<[string, Subject['health']['healthCode'], string[], Alert[]]>([
    ['refuses a yellow code with a warning alert', 'yellow', ['HEALTH_CODE_YELLOW'], [{ kind: 'health-code', severity: 'warning', code: 'HEALTH_CODE_YELLOW' }]],
    ['refuses a red code with a critical alert', 'red', ['HEALTH_CODE_RED'], [{ kind: 'health-code', severity: 'critical', code: 'HEALTH_CODE_RED' }]],
  ])('%s', (_n, healthCode, expected, alerts) => {
    const v = decision(decide(input({ subject: subject({ health: { healthCode } }), readings: [36.5] })));
    expect(v.outcome).toBe('refuse');
    expect(codes(v)).toEqual(expected);
    expect(v.alerts).toEqual(alerts);
  });

  it('refuses a code it does not know as if it were yellow', () => {
    const healthCode = 'grey' as Subject['health']['healthCode'];
    expect(codes(decide(input({ subject: subject({ health: { healthCode } }) })))).toEqual(['HEALTH_CODE_YELLOW']);
  });
});

describe('decide: travel code (rule 2)', () => {
  const withTravel = (riskLevel: 'none' | 'low' | 'medium' | 'high', visits: Visit[] = []): Subject =>
    subject({ health: { travel: { riskLevel, visits, asOf: iso(NOW) } } });

  it('refuses a person without a travel record', () => {
    expect(codes(decide(input({ subject: subject({ health: { travel: undefined } }) })))).toEqual(['TRAVEL_MISSING']);
  });

  it.each<[string, 'none' | 'low' | 'medium' | 'high', string[], Alert[]]>([
    ['lets a travel code of no risk through', 'none', PASSES, []],
    ['lets a travel code of low risk through', 'low', PASSES, []],
    ['refuses a travel code of medium risk with a warning alert', 'medium', ['TRAVEL_RISK_AREA'], [{ kind: 'risk-area', severity: 'warning', code: 'TRAVEL_RISK_AREA' }]],
    ['refuses a travel code of high risk with a critical alert', 'high', ['TRAVEL_RISK_AREA'], [{ kind: 'risk-area', severity: 'critical', code: 'TRAVEL_RISK_AREA' }]],
  ])('%s', (_n, level, expected, alerts) => {
    const v = decide(input({ subject: withTravel(level) }));
    expect(codes(v)).toEqual(expected);
    if (v.outcome !== 'measure') expect(v.alerts).toEqual(alerts);
  });

  const XIAN: RiskArea = { region: "Xi'an", level: 'high', since: daysAgo(16), until: null };
  const visit = (region: string, fromDaysAgo: number, toDaysAgo: number): Visit => ({ region, from: daysAgo(fromDaysAgo), to: daysAgo(toDaysAgo) });

  it.each<[string, Visit[], RiskArea[], string[]]>([
    ['refuses a stay in a listed area that ended exactly 14 days ago', [visit("Xi'an", 16, 14)], [XIAN], ['TRAVEL_RISK_AREA_VISIT']],
    ['lets through a stay in a listed area that ended 15 days ago', [visit("Xi'an", 16, 15)], [XIAN], PASSES],
    ['refuses a stay that is still going on today', [visit("Xi'an", 3, 0)], [XIAN], ['TRAVEL_RISK_AREA_VISIT']],
    ['lets through a stay before the area became risky', [visit("Xi'an", 10, 5)], [{ ...XIAN, since: daysAgo(4) }], PASSES],
    ['refuses a stay whose last day is the day the area became risky', [visit("Xi'an", 10, 4)], [{ ...XIAN, since: daysAgo(4) }], ['TRAVEL_RISK_AREA_VISIT']],
    ['lets through a stay after the area stopped being risky', [visit("Xi'an", 5, 2)], [{ ...XIAN, until: daysAgo(6) }], PASSES],
    ['lets through a stay whose risky part lies before the 14 days', [visit("Xi'an", 30, 1)], [{ ...XIAN, since: daysAgo(30), until: daysAgo(20) }], PASSES],
    ['matches the region case-insensitively and trimmed', [visit("  XI'AN ", 5, 3)], [XIAN], ['TRAVEL_RISK_AREA_VISIT']],
    ['matches Chinese region names exactly', [visit('西安市', 5, 3)], [{ ...XIAN, region: '西安市' }], ['TRAVEL_RISK_AREA_VISIT']],
    ['ignores an area listed as low risk', [visit("Xi'an", 5, 3)], [{ ...XIAN, level: 'low' }], PASSES],
    ['ignores another region', [visit('Baoji', 5, 3)], [XIAN], PASSES],
    ['counts a matching stay whose dates cannot be read', [{ region: "Xi'an", from: 'soon', to: 'later' }], [XIAN], ['TRAVEL_RISK_AREA_VISIT']],
    ['reads a stay with its dates swapped', [visit("Xi'an", 3, 5)], [XIAN], ['TRAVEL_RISK_AREA_VISIT']],
  ])('%s', (_n, visits, areas, expected) => {
    expect(codes(decide(input({ subject: withTravel('low', visits), facts: { riskAreas: areas } })))).toEqual(expected);
  });

  it('lists every risk region once and uses the profile look-back in the text', () => {
    const areas: RiskArea[] = [XIAN, { region: '咸阳', level: 'medium', since: daysAgo(10), until: null }];
    const visits = [visit("xi'an", 9, 8), visit('咸阳', 7, 6), visit("Xi'an", 5, 4)];
    const v = decision(decide(input({ subject: withTravel('low', visits), facts: { riskAreas: areas } })));
    expect(v.reasons).toHaveLength(1);
    expect(v.reasons[0]?.zh).toBe("14天内有风险地区旅居史（Xi'an、咸阳）");
    expect(v.alerts).toEqual([{ kind: 'risk-area', severity: 'critical', code: 'TRAVEL_RISK_AREA_VISIT' }]);
  });

  it('keeps one risk-area alert, the most severe, when both travel checks fail', () => {
    const areas: RiskArea[] = [{ region: '延安', level: 'medium', since: daysAgo(10), until: null }];
    const v = decision(decide(input({ subject: withTravel('high', [visit('延安', 3, 2)]), facts: { riskAreas: areas } })));
    expect(codes(v)).toEqual(['TRAVEL_RISK_AREA', 'TRAVEL_RISK_AREA_VISIT']);
    expect(v.alerts).toEqual([{ kind: 'risk-area', severity: 'critical', code: 'TRAVEL_RISK_AREA' }]);
  });

  it('honours a shorter look-back from the profile', () => {
    const profile = profileFromOverrides({ riskLookbackDays: 7 });
    const s = withTravel('low', [visit("Xi'an", 9, 8)]);
    expect(codes(decide(input({ subject: s, facts: { riskAreas: [XIAN] }, profile })))).toEqual(PASSES);
  });
});

describe('decide: nucleic-acid test (rule 3)', () => {
  const sampled = (ms: number): Subject => subject({ health: { test: { result: 'negative', sampledAt: iso(NOW - ms) } } });
  const drivers72 = profileFromOverrides({ testWindowHoursByCategory: { driver: 72 } });

  it.each<[string, Subject, string[]]>([
    ['refuses a person without a test', subject({ health: { test: undefined } }), ['TEST_MISSING']],
    ['accepts a negative test sampled exactly 48 h ago', sampled(48 * HOUR), PASSES],
    ['refuses a negative test sampled 48 h and 1 s ago', sampled(48 * HOUR + SECOND), ['TEST_EXPIRED']],
    ['refuses a negative test sampled 48 h and 1 ms ago', sampled(48 * HOUR + 1), ['TEST_EXPIRED']],
    ['accepts a test sampled 5 min in the future (clock skew)', sampled(-5 * MINUTE), PASSES],
    ['refuses a test sampled 5 min and 1 s in the future', sampled(-5 * MINUTE - SECOND), ['TEST_DATE_INVALID']],
    ['refuses a test whose sampling time cannot be read', subject({ health: { test: { result: 'negative', sampledAt: 'yesterday' } } }), ['TEST_DATE_INVALID']],
    ['reads a sampling time without offset as China time', subject({ health: { test: { result: 'negative', sampledAt: '2021-12-18T12:00:00' } } }), PASSES],
    ['refuses a sampling time without offset 1 s too old in China time', subject({ health: { test: { result: 'negative', sampledAt: '2021-12-18T11:59:59' } } }), ['TEST_EXPIRED']],
  ])('%s', (_n, s, expected) => {
    expect(codes(decide(input({ subject: s })))).toEqual(expected);
  });

  it.each<[string, Category, number, string[]]>([
    ['accepts a driver test 72 h old under a 72 h driver override', 'driver', 72 * HOUR, PASSES],
    ['refuses a driver test 72 h and 1 s old under a 72 h driver override', 'driver', 72 * HOUR + SECOND, ['TEST_EXPIRED']],
    ['keeps 48 h for employees under a driver override', 'employee', 60 * HOUR, ['TEST_EXPIRED']],
  ])('%s', (_n, category, age, expected) => {
    const s = subject({ category, health: { test: { result: 'negative', sampledAt: iso(NOW - age) } } });
    expect(codes(decide(input({ subject: s, profile: drivers72 })))).toEqual(expected);
  });

  it('says how old the test is and which limit applied', () => {
    const v = decision(decide(input({ subject: sampled(50 * HOUR + 30 * MINUTE) })));
    expect(v.reasons[0]).toMatchObject({ zh: '核酸检测已超过48小时（采样于50小时前）', en: 'Test is older than 48 h (sampled 50 h ago)' });
  });

  it('refuses a positive test with a critical alert, whatever its age', () => {
    const s = subject({ health: { test: { result: 'positive', sampledAt: iso(NOW - 20 * DAY) } } });
    const v = decision(decide(input({ subject: s })));
    expect(codes(v)).toEqual(['TEST_POSITIVE']);
    expect(v.alerts).toEqual([{ kind: 'health-code', severity: 'critical', code: 'TEST_POSITIVE' }]);
  });
});

describe('decide: watchlists (rule 5)', () => {
  const entry = (over: Partial<WatchlistEntry>): WatchlistEntry => ({
    subjectId: 'P-0001',
    kind: 'home-monitoring',
    from: iso(NOW - 3 * DAY),
    until: iso(NOW + 11 * DAY),
    ...over,
  });

  it.each<[string, WatchlistEntry, string[]]>([
    ['lets through an entry whose end is exactly now', entry({ until: iso(NOW) }), PASSES],
    ['refuses an entry that ends 1 ms after now', entry({ until: iso(NOW + 1) }), ['WATCHLIST_HOME_MONITORING']],
    ['lets through an entry that starts 1 ms after now', entry({ from: iso(NOW + 1) }), PASSES],
    ['refuses an entry that starts exactly now', entry({ from: iso(NOW) }), ['WATCHLIST_HOME_MONITORING']],
    ['refuses an entry without an end', entry({ until: null }), ['WATCHLIST_HOME_MONITORING']],
    ['refuses a close contact', entry({ kind: 'close-contact' }), ['WATCHLIST_CLOSE_CONTACT']],
    ['refuses a person in isolation', entry({ kind: 'isolation' }), ['WATCHLIST_ISOLATION']],
    ['refuses an entry whose start cannot be read', entry({ from: 'unknown' }), ['WATCHLIST_HOME_MONITORING']],
  ])('%s', (_n, e, expected) => {
    const v = decide(input({ facts: { watchlist: [e] } }));
    expect(codes(v)).toEqual(expected);
    if (expected.length > 0) expect(decision(v).alerts).toEqual([{ kind: 'watchlist', severity: 'critical', code: expected[0] }]);
  });

  it('shows the last whole day of a home monitoring that ends at midnight', () => {
    const v = decision(decide(input({ facts: { watchlist: [entry({ until: '2021-12-24T00:00:00+08:00' })] } })));
    expect(v.reasons[0]).toMatchObject({ zh: '您在居家健康监测期内（至12月23日）', en: 'You are under home health monitoring (through 23 Dec)' });
  });

  it('shows the time when an entry ends during the day', () => {
    const v = decision(decide(input({ facts: { watchlist: [entry({ kind: 'isolation', until: '2021-12-24T14:30:00+08:00' })] } })));
    expect(v.reasons[0]).toMatchObject({ zh: '您在隔离期内（至12月24日 14:30）', en: 'You are in isolation (until 24 Dec 14:30)' });
  });

  it('gives one reason per kind with the latest end', () => {
    const list = [entry({ until: iso(NOW + DAY) }), entry({ until: '2021-12-30T00:00:00+08:00' }), entry({ kind: 'close-contact', until: null })];
    const v = decision(decide(input({ facts: { watchlist: list } })));
    expect(codes(v)).toEqual(['WATCHLIST_CLOSE_CONTACT', 'WATCHLIST_HOME_MONITORING']);
    expect(v.reasons[1]?.zh).toContain('12月29日');
    expect(v.reasons[0]?.zh).toBe('您在密接管控期内');
    expect(v.alerts).toHaveLength(1);
  });
});

describe('decide: visitor approval (rule 6)', () => {
  const visitor = subject({ category: 'visitor' });
  const approval = (from: number, until: number): Approval => ({
    subjectId: 'P-0001',
    approver: '王主任',
    hostDepartment: '机电科',
    validFrom: iso(from),
    validUntil: iso(until),
  });

  it.each<[string, Approval[], string[]]>([
    ['lets through a visitor whose approval starts exactly now', [approval(NOW, NOW + DAY)], PASSES],
    ['refuses a visitor whose approval starts 1 ms after now', [approval(NOW + 1, NOW + DAY)], ['VISITOR_APPROVAL_NOT_YET_VALID']],
    ['refuses a visitor whose approval ended exactly now', [approval(NOW - DAY, NOW)], ['VISITOR_APPROVAL_EXPIRED']],
    ['lets through a visitor whose approval ends 1 ms after now', [approval(NOW - DAY, NOW + 1)], PASSES],
    ['refuses a visitor without any approval', [], ['VISITOR_NO_APPROVAL']],
    ['prefers "not yet valid" when there are both past and future approvals', [approval(NOW - 2 * DAY, NOW - DAY), approval(NOW + HOUR, NOW + DAY)], ['VISITOR_APPROVAL_NOT_YET_VALID']],
    ['lets through a visitor with one valid approval among stale ones', [approval(NOW - 2 * DAY, NOW - DAY), approval(NOW - HOUR, NOW + HOUR)], PASSES],
    ['refuses a visitor whose approval dates cannot be read', [{ ...approval(NOW, NOW), validFrom: 'x', validUntil: 'y' }], ['VISITOR_NO_APPROVAL']],
  ])('%s', (_n, approvals, expected) => {
    const v = decide(input({ subject: visitor, facts: { approvals } }));
    expect(codes(v)).toEqual(expected);
    if (expected.length > 0) {
      expect(decision(v).alerts).toEqual([{ kind: 'visitor-refused', severity: 'warning', code: expected[0] }]);
    }
  });

  it('does not ask an employee for an approval', () => {
    expect(codes(decide(input({ subject: subject({ category: 'employee' }) })))).toEqual(PASSES);
  });

  it('asks contractors for an approval when the profile says so', () => {
    const profile = profileFromOverrides({ approvalRequiredFor: ['visitor', 'contractor'] });
    expect(codes(decide(input({ subject: subject({ category: 'contractor' }), profile, facts: { crews: [crew()] } })))).toEqual(['VISITOR_NO_APPROVAL']);
  });

  it('tells the visitor from when the approval is valid', () => {
    const v = decision(decide(input({ subject: visitor, facts: { approvals: [approval(Date.parse('2021-12-21T08:00:00+08:00'), NOW + 3 * DAY)] } })));
    expect(v.reasons[0]).toMatchObject({ zh: '来访审批尚未生效（12月21日 08:00起）', en: 'Visit approval not valid yet (from 21 Dec 08:00)' });
  });

  it('raises visitor-refused for a visitor refused for another reason', () => {
    const v = decision(
      decide(input({ subject: subject({ category: 'visitor', health: { healthCode: 'yellow' } }), facts: { approvals: [approval(NOW - HOUR, NOW + HOUR)] } })),
    );
    expect(v.alerts.map((a) => [a.kind, a.code])).toEqual([
      ['health-code', 'HEALTH_CODE_YELLOW'],
      ['visitor-refused', 'HEALTH_CODE_YELLOW'],
    ]);
  });
});

describe('decide: several failing checks', () => {
  const everythingWrong = subject({
    category: 'visitor',
    health: {
      healthCode: 'red',
      travel: { riskLevel: 'high', visits: [{ region: '西安', from: daysAgo(6), to: daysAgo(5) }], asOf: iso(NOW) },
      test: { result: 'negative', sampledAt: iso(NOW - 49 * HOUR) },
    },
  });
  const facts = {
    riskAreas: [{ region: '西安', level: 'high', since: daysAgo(16), until: null }] satisfies RiskArea[],
    watchlist: [{ subjectId: 'P-0001', kind: 'close-contact', from: iso(NOW - DAY), until: null }] satisfies WatchlistEntry[],
  };
  const profile = profileFromOverrides({ allowedCategories: ['employee'] });

  it('collects every failing reason in check order, without asking for a temperature', () => {
    const v = decision(decide(input({ subject: everythingWrong, facts, profile })));
    expect(v.outcome).toBe('refuse');
    expect(codes(v)).toEqual([
      'CATEGORY_NOT_ALLOWED',
      'HEALTH_CODE_RED',
      'TRAVEL_RISK_AREA',
      'TRAVEL_RISK_AREA_VISIT',
      'TEST_EXPIRED',
      'WATCHLIST_CLOSE_CONTACT',
      'VISITOR_NO_APPROVAL',
    ]);
    expect(v.temperature).toBeUndefined();
  });

  it('raises one alert per kind', () => {
    const v = decision(decide(input({ subject: everythingWrong, facts, profile })));
    expect(v.alerts).toEqual([
      { kind: 'health-code', severity: 'critical', code: 'HEALTH_CODE_RED' },
      { kind: 'risk-area', severity: 'critical', code: 'TRAVEL_RISK_AREA' },
      { kind: 'watchlist', severity: 'critical', code: 'WATCHLIST_CLOSE_CONTACT' },
      { kind: 'visitor-refused', severity: 'warning', code: 'VISITOR_NO_APPROVAL' },
    ]);
  });

  it.each<[string, number[], string[], number | undefined]>([
    ['adds a fever the readings already confirm', [38.1, 38.0], ['HEALTH_CODE_YELLOW', 'TEMP_FEVER'], 38.0],
    ['does not add an unconfirmed high reading, but records it', [38.1], ['HEALTH_CODE_YELLOW'], 38.1],
    ['records a normal reading taken before the refusal', [36.4], ['HEALTH_CODE_YELLOW'], 36.4],
    ['does not record an implausible reading', [31], ['HEALTH_CODE_YELLOW'], undefined],
  ])('on a refusal, %s', (_n, readings, expected, temperature) => {
    const v = decision(decide(input({ subject: subject({ health: { healthCode: 'yellow' } }), readings })));
    expect(codes(v)).toEqual(expected);
    expect(v.temperature).toBe(temperature);
    expect(v.alerts.some((a) => a.kind === 'fever')).toBe(expected.includes('TEMP_FEVER'));
  });
});
