// A lane's part in a zone (canteen seats, bathhouse): an entry lane checks the zone
// before it admits and counts in after; an exit lane counts out. Counts live in SQLite,
// read at every passage, so they survive restarts and a guard's correction (CLI or
// console) takes effect at the next scan.
import { suggestion } from '../config/did-you-mean.js';
import { ConfigError, formatPath, type LoadedConfig } from '../config/load.js';
import type { ZoneAtPassage, ZoneRule } from '../policy/zones.js';
import type { SqliteStore } from '../store/sqlite-store.js';

export type ZoneStore = Pick<SqliteStore, 'zoneFacts' | 'zoneEnter' | 'zoneExit'>;

export interface LaneZone {
  zone: string;
  direction: 'in' | 'out';
  /** The zone as this person meets it now: rule, direction, count, their open entry (policy/zones.ts applyZone decides with it). */
  at(subjectRef: string | null): ZoneAtPassage;
  /** What moves the count: the lane's admissions, or its passage sensor (the admissions then only mark who is inside). */
  countedBy: 'admission' | 'sensor';
  /** After an admission was recorded: count in (entry lane) or out (exit lane). */
  passed(subjectRef: string | null, at: number): void;
  /** The passage sensor saw someone go through (countedBy 'sensor'). */
  sensed(at: number): void;
}

export function laneZone(
  store: ZoneStore,
  rule: ZoneRule,
  direction: 'in' | 'out',
  countedBy: LaneZone['countedBy'] = 'admission',
  /** After the zone's count or presence changed (the kiosks of its entry lanes show the count). */
  onChange: (zone: string) => void = () => undefined,
): LaneZone {
  const count = countedBy === 'admission';
  return {
    zone: rule.id,
    direction,
    countedBy,
    at: (subjectRef) => ({ ...rule, direction, ...store.zoneFacts(rule.id, subjectRef) }),
    passed: (subjectRef, at) => {
      if (direction === 'in') store.zoneEnter(rule.id, subjectRef, at, { count });
      else store.zoneExit(rule.id, subjectRef, at, { count });
      onChange(rule.id);
    },
    sensed: (at) => {
      if (count) return;
      if (direction === 'in') store.zoneEnter(rule.id, null, at);
      else store.zoneExit(rule.id, null, at);
      onChange(rule.id);
    },
  };
}

/** A zone's lane that names no lane, or a lane already in another zone; `config check` gives each its line. */
export interface ZoneLaneProblem {
  keyPath: (string | number)[];
  message: string;
}

/** What is wrong with the zones' lane lists (pure; the config check and start-up share it). */
export function zoneLaneProblems(zones: LoadedConfig['config']['policy']['zones'], lanes: Iterable<string>): ZoneLaneProblem[] {
  const laneIds = new Set(lanes);
  const zoneOf = new Map<string, string>();
  const problems: ZoneLaneProblem[] = [];
  zones.forEach((z, i) => {
    for (const key of ['entryLanes', 'exitLanes'] as const) {
      z[key].forEach((lane, j) => {
        const keyPath = ['policy', 'zones', i, key, j];
        if (!laneIds.has(lane)) problems.push({ keyPath, message: `expected the id of a lane in lanes[], got "${lane}"${suggestion(lane, laneIds)}` });
        else if (zoneOf.has(lane)) problems.push({ keyPath, message: `lane "${lane}" already belongs to zone "${zoneOf.get(lane)}"; expected one zone per lane` });
        else zoneOf.set(lane, z.id);
      });
    }
  });
  return problems;
}

/** The zone of each lane that has one. Throws ConfigError for unknown lanes or a lane in two zones. */
export function laneZones(loaded: LoadedConfig, store: ZoneStore, onChange?: (zone: string) => void): Map<string, LaneZone> {
  const { config } = loaded;
  const problems = zoneLaneProblems(config.policy.zones, config.lanes.map((l) => l.id));
  if (problems.length > 0) throw new ConfigError(loaded.file, problems.map((p) => `${formatPath(p.keyPath)}: ${p.message}`));
  const sensed = new Set(config.lanes.filter((l) => l.passageSensor !== undefined).map((l) => l.id));
  const out = new Map<string, LaneZone>();
  for (const z of config.policy.zones) {
    const rule: ZoneRule = { id: z.id, limit: z.limit ?? null, antiPassback: z.antiPassback, windowMinutes: z.windowMinutes ?? null };
    for (const [key, direction] of [['entryLanes', 'in'], ['exitLanes', 'out']] as const) {
      for (const lane of z[key]) out.set(lane, laneZone(store, rule, direction, sensed.has(lane) ? 'sensor' : 'admission', onChange));
    }
  }
  return out;
}
