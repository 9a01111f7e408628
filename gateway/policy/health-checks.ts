// What counts as health data in a decision, for the gateway's guard when health checks are
// off (docs/policy.md "Access control only"): the reasons and alerts of the health code,
// test, travel record, risk-area and temperature rules, and the evaluated facts they read.
// The policy itself produces none of them with health checks off; the gateway strips them
// again before anything is stored or published, so no other path can carry one through.
// Pure: no I/O.
import { HEALTH_REASON_CODES } from './reasons.js';
import type { Alert, EvaluatedFacts, Reason } from './types.js';

/** Alert kinds raised only by health rules. */
export const HEALTH_ALERT_KINDS: ReadonlySet<string> = new Set(['fever', 'health-code', 'risk-area']);

export function isHealthReason(r: Pick<Reason, 'code'>): boolean {
  return HEALTH_REASON_CODES.has(r.code);
}

/** A health rule's own alert, or a soft-rule alert raised by a health reason. */
export function isHealthAlert(a: Pick<Alert, 'kind' | 'code'>): boolean {
  return HEALTH_ALERT_KINDS.has(a.kind) || HEALTH_REASON_CODES.has(a.code);
}

/** The evaluated facts without anything a health rule reads (what evaluatedFacts keeps with health checks off). */
export function withoutHealthFacts(f: EvaluatedFacts): EvaluatedFacts {
  const { leave: _leave, ...rest } = f;
  const c = f.credential;
  return {
    ...rest,
    credential: c.ok ? { ok: true, kind: c.kind, category: c.category } : c,
    readings: [],
    riskAreas: [],
    ...(f.crews === undefined ? {} : { crews: f.crews.map((cr) => ({ validFrom: cr.validFrom, validUntil: cr.validUntil, itinerary: [] })) }),
  };
}
