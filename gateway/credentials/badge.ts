// Staff badges: `CPB1:<staffId>`. The badge only names a person; what the policy judges
// (category, health) comes from the roster the central office pushes.
import type { ParsedCredential, ResolvedCredential, RosterLookup } from './types.js';

/** "CheckPoint Badge, format 1". Upper case, exactly as written. */
export const BADGE_PREFIX = 'CPB1:';

/**
 * Staff id: 1 to 32 characters of A–Z, 0–9 and '-', not starting with '-'. Upper case only,
 * so one person has one spelling (the roster is keyed by it).
 */
export const STAFF_ID_PATTERN = /^[A-Z0-9][A-Z0-9-]{0,31}$/;

/** Parses `CPB1:<staffId>` (no surrounding whitespace; decodeCredential strips trailing CR/LF). */
export function parseBadge(text: string): ParsedCredential {
  if (!text.startsWith(BADGE_PREFIX)) {
    return { ok: false, kind: 'staff-badge', code: 'BADGE_MALFORMED', detail: `expected the prefix ${BADGE_PREFIX}` };
  }
  const staffId = text.slice(BADGE_PREFIX.length);
  if (!STAFF_ID_PATTERN.test(staffId)) {
    return {
      ok: false,
      kind: 'staff-badge',
      code: 'BADGE_MALFORMED',
      detail: `staff id of ${staffId.length} character(s) does not match ${STAFF_ID_PATTERN.source} (1-32 of A-Z 0-9 -, not starting with -)`,
    };
  }
  return { ok: true, kind: 'staff-badge', staffId };
}

/**
 * Turns a parsed credential into the subject the policy judges. A verified pass carries its
 * subject; a badge is looked up in the roster (absent or inactive → BADGE_NOT_IN_ROSTER).
 * Failures pass through unchanged. Details never quote the staff id: they may end up in
 * logs or telemetry, which carry pseudonyms only.
 */
export function resolveCredential(parsed: ParsedCredential, roster: RosterLookup): ResolvedCredential {
  if (!parsed.ok) return { ok: false, kind: parsed.kind, code: parsed.code, detail: parsed.detail };
  if (parsed.kind === 'health-pass') return { ok: true, kind: 'health-pass', subject: parsed.subject };
  if (parsed.kind === 'dcc') return { ok: true, kind: 'dcc', subject: parsed.subject };
  // A vehicle pass names no person: the lane pairs it with the driver's pass before this.
  if (parsed.kind === 'vehicle-pass') {
    return { ok: false, kind: 'health-pass', code: 'PASS_CLAIMS_INVALID', detail: "is a vehicle pass, not a person's pass" };
  }
  const entry = roster(parsed.staffId);
  if (entry === undefined) {
    return { ok: false, kind: 'staff-badge', code: 'BADGE_NOT_IN_ROSTER', detail: 'the staff id is not in the roster' };
  }
  if (!entry.active) {
    return { ok: false, kind: 'staff-badge', code: 'BADGE_NOT_IN_ROSTER', detail: 'the staff id is withdrawn (inactive) in the roster' };
  }
  return {
    ok: true,
    kind: 'staff-badge',
    subject: { id: parsed.staffId, name: entry.name, category: entry.category, health: entry.health },
  };
}
