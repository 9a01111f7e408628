// Shapes of what a QR payload can turn into. Pure data: no I/O types here.

export const CATEGORIES = ['employee', 'family', 'contractor', 'visitor', 'vendor', 'driver'] as const;
export type Category = (typeof CATEGORIES)[number];

export const HEALTH_CODES = ['green', 'yellow', 'red'] as const;
export type HealthCode = (typeof HEALTH_CODES)[number];

export const RISK_LEVELS = ['none', 'low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** One region visited, with ISO dates (YYYY-MM-DD) of the stay. */
export interface Visit {
  region: string;
  from: string;
  to: string;
}

export interface TravelRecord {
  /** The travel code's own verdict. */
  riskLevel: RiskLevel;
  visits: Visit[];
  /** ISO timestamp the travel record was issued for. */
  asOf: string;
}

export interface TestRecord {
  result: 'negative' | 'positive';
  /** ISO timestamp the sample was taken. */
  sampledAt: string;
}

/** The health facts the policy judges, whether they came from a pass or the roster. */
export interface HealthFacts {
  healthCode: HealthCode;
  travel?: TravelRecord;
  test?: TestRecord;
}

/** A person as the policy sees them, from a verified pass or a roster entry. */
export interface Subject {
  /** Stable id of the person within the issuer's namespace (pass `sub`, or staff id). */
  id: string;
  name: string;
  category: Category;
  health: HealthFacts;
}

export type CredentialKind = 'health-pass' | 'staff-badge' | 'unknown';

/** Why a payload could not be turned into a usable credential. Stable codes. */
export const CREDENTIAL_FAILURES = [
  'PASS_MALFORMED',
  'PASS_UNKNOWN_KEY',
  'PASS_SIGNATURE_INVALID',
  'PASS_EXPIRED',
  'PASS_NOT_YET_VALID',
  'PASS_CLAIMS_INVALID',
  'BADGE_MALFORMED',
  'BADGE_NOT_IN_ROSTER',
  'CREDENTIAL_UNKNOWN',
  'CREDENTIAL_NOT_TEXT',
] as const;
export type CredentialFailureCode = (typeof CREDENTIAL_FAILURES)[number];

export type ParsedCredential =
  /** issuer: the trust-list label of the key that signed it; issuedAt/expiresAt: epoch ms (claims `iat`/`exp` × 1000). */
  | { ok: true; kind: 'health-pass'; subject: Subject; issuer: string; issuedAt: number; expiresAt: number }
  /** A staff badge still has to be looked up in the roster. */
  | { ok: true; kind: 'staff-badge'; staffId: string }
  | { ok: false; kind: CredentialKind; code: CredentialFailureCode; detail: string };

/** After the roster lookup: what the policy receives. */
export type ResolvedCredential =
  | { ok: true; kind: 'health-pass' | 'staff-badge'; subject: Subject }
  | { ok: false; kind: CredentialKind; code: CredentialFailureCode; detail: string };

/** What a staff badge resolves to in the roster (the store's RosterEntry fits this shape). */
export interface RosterFacts {
  name: string;
  category: Category;
  health: HealthFacts;
  /** false = badge withdrawn; treated as not in roster. */
  active: boolean;
}

/** Roster lookup by staff id, injected so credentials stays free of I/O. */
export type RosterLookup = (staffId: string) => RosterFacts | undefined;
