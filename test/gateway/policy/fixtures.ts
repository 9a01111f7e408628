// Builders for decide() inputs: a person who passes every subject check, and small
// changes on top, so each test states only what it is about.
import type { ResolvedCredential, Subject } from '../../../gateway/credentials/types.js';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import type { CrewRegistration, DecideInput, LocalFacts, PolicyProfile, TemperatureReading } from '../../../gateway/policy/types.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** 2021-12-20 12:00 China time, a Monday of the Xi'an outbreak. */
export const NOW = Date.parse('2021-12-20T12:00:00+08:00');

export const iso = (ms: number): string => new Date(ms).toISOString();

export function subject(over: Omit<Partial<Subject>, 'health'> & { health?: Partial<Subject['health']> } = {}): Subject {
  const { health, ...rest } = over;
  return {
    id: 'P-0001',
    name: '张三',
    category: 'employee',
    ...rest,
    health: {
      healthCode: 'green',
      travel: { riskLevel: 'none', visits: [], asOf: iso(NOW - HOUR) },
      test: { result: 'negative', sampledAt: iso(NOW - 2 * HOUR) },
      ...health,
    },
  };
}

/** A crew registration valid from a day before NOW to a week after, with no itinerary. */
export function crew(over: Partial<CrewRegistration> = {}): CrewRegistration {
  return {
    id: 'CREW-1',
    responsible: '赵工',
    members: ['P-0001'],
    validFrom: iso(NOW - DAY),
    validUntil: iso(NOW + 7 * DAY),
    itinerary: [],
    ...over,
  };
}

export const EMPTY_FACTS: LocalFacts = { watchlist: [], approvals: [], riskAreas: [] };

export interface InputOptions {
  credential?: ResolvedCredential;
  subject?: Subject;
  /** Celsius values, oldest first; one second apart. */
  readings?: number[];
  facts?: Partial<LocalFacts>;
  profile?: PolicyProfile;
  now?: number;
}

export function input(o: InputOptions = {}): DecideInput {
  const now = o.now ?? NOW;
  const readings: TemperatureReading[] = (o.readings ?? []).map((celsius, i, all) => ({ celsius, at: now - (all.length - i) * SECOND }));
  return {
    credential: o.credential ?? { ok: true, kind: 'health-pass', subject: o.subject ?? subject() },
    readings,
    facts: { ...EMPTY_FACTS, ...o.facts },
    profile: o.profile ?? MINE_ENTRANCE,
    now,
  };
}

/** Local calendar date (UTC+8) `days` before NOW, as YYYY-MM-DD. */
export function daysAgo(days: number): string {
  return new Date(NOW + 8 * HOUR - days * DAY).toISOString().slice(0, 10);
}
