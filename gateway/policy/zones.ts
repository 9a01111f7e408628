// Occupancy and anti-passback of a zone (canteen seats, bathhouse): applied to an admit
// from decide() on the zone's entry lane. Pure: the counts come from the store. Kept apart
// from decide() because a zone is a place with people in it, not a rule about a person:
// policy replay re-decides the person, then re-checks the zone with the counts it
// simulates (see replay.ts).
import { reason } from './reasons.js';
import type { Alert, Decision } from './types.js';

export type AntiPassbackMode = 'off' | 'hard' | 'soft' | 'timed';

export interface ZoneRule {
  id: string;
  /** People allowed inside at once; null = no limit. */
  limit: number | null;
  /**
   * A second entry with no exit since the last: hard refuses, soft admits with an alert,
   * timed refuses within `windowMinutes` of that entry and admits after it (people do
   * leave through doors without scanners), off ignores it.
   */
  antiPassback: AntiPassbackMode;
  windowMinutes: number | null;
}

export interface ZoneFacts {
  /** People inside now. */
  count: number;
  /** When this person last entered without an exit since; null when they are not inside. */
  openEntryAt: number | null;
}

/** A zone as one passage met it: its rule, the lane's direction and the counts then. Kept with the decision for replay. */
export interface ZoneAtPassage extends ZoneRule, ZoneFacts {
  direction: 'in' | 'out';
}

export const MINUTE_MS = 60_000;

/** The decision the zone allows at this passage: only an entry is ever held. */
export function applyZone(decision: Decision, zone: ZoneAtPassage, now: number): Decision {
  return zone.direction === 'in' ? checkZoneEntry(decision, zone, zone, now) : decision;
}

/** The decision at a zone's entry lane: unchanged unless it admits someone the zone cannot take. */
export function checkZoneEntry(decision: Decision, rule: ZoneRule, facts: ZoneFacts, now: number): Decision {
  if (decision.outcome !== 'admit') return decision;
  const reasons = [...decision.reasons];
  const alerts: Alert[] = [...decision.alerts];
  if (facts.openEntryAt !== null && rule.antiPassback !== 'off') {
    const withinWindow = rule.antiPassback !== 'timed' || (rule.windowMinutes !== null && now - facts.openEntryAt < rule.windowMinutes * MINUTE_MS);
    if (withinWindow) {
      const r = reason('ANTI_PASSBACK');
      if (rule.antiPassback === 'soft') {
        reasons.push(r);
        alerts.push({ kind: 'anti-passback', severity: 'warning', code: r.code });
      } else {
        return { outcome: 'refuse', reasons: [r, ...reasons], alerts: [{ kind: 'anti-passback', severity: 'warning', code: r.code }, ...alerts] };
      }
    }
  }
  // Someone already inside (a soft passback) takes no new seat.
  const entering = facts.openEntryAt === null;
  if (rule.limit !== null && entering && facts.count >= rule.limit) {
    return { outcome: 'refer', reasons: [reason('ZONE_FULL', { count: facts.count, limit: rule.limit }), ...reasons], alerts };
  }
  const out: Decision = { outcome: 'admit', reasons, alerts };
  if (decision.temperature !== undefined) out.temperature = decision.temperature;
  return out;
}
