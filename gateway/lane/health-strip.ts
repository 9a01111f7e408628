// The gateway's guard for health checks off: a ledger entry with nothing health-related
// left in it, applied before the store and before anything is published. The policy and
// the lane already produce none with health checks off (no health reason, no reading, no
// health facts); this makes sure that no other path (a passage that began under the old
// rules, a future code) can carry one through. Pure.
import { isHealthAlert, isHealthReason, withoutHealthFacts } from '../policy/health-checks.js';
import type { NewLedgerEntry } from '../store/types.js';

export function withoutHealth<E extends NewLedgerEntry>(entry: E): E {
  return {
    ...entry,
    reasons: entry.reasons.filter((r) => !isHealthReason(r)),
    alerts: entry.alerts.filter((a) => !isHealthAlert(a)),
    temperature: null,
    ...(entry.facts ? { facts: withoutHealthFacts(entry.facts) } : {}),
  };
}
