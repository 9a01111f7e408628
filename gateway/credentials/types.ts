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

/** The kinds of test an EU DCC names (`tt`): nucleic acid (LP6464-4), rapid antigen (LP217198-3), anything else. */
export type DccTestType = 'naat' | 'rat' | 'other';

/**
 * What a verified EU Digital COVID Certificate says, as the policy reads it: no name, no
 * date of birth, no certificate id (UVCI). One of three kinds (docs/credentials.md "EU DCC").
 */
export type DccFacts =
  /** A test certificate; its result and sample time are in DccHealthFacts.test. */
  | { type: 'test'; testType: DccTestType }
  /** A vaccination: dose `dose` of a series of `series`, given on `date` (YYYY-MM-DD). */
  | { type: 'vaccination'; dose: number; series: number; date: string }
  /** A recovery: valid from `validFrom` until `validUntil` inclusive (YYYY-MM-DD). */
  | { type: 'recovery'; validFrom: string; validUntil: string };

/**
 * A DCC holder's health facts: a DCC carries no health code and no travel record; the
 * profile's `dcc` rule says what the certificate may stand in for (docs/policy.md).
 */
export interface DccHealthFacts {
  source: 'dcc';
  /** Never set: named so that code reading a pass's facts sees "no health code, no travel record". */
  healthCode?: never;
  travel?: never;
  dcc: DccFacts;
  /** Test certificates only: the result and sample time the test rule reads. */
  test?: TestRecord;
}

/** What a subject's health is known from: a pass or the roster, or an EU DCC. */
export type SubjectHealth = HealthFacts | DccHealthFacts;

export function isDccHealth(h: SubjectHealth): h is DccHealthFacts {
  return (h as Partial<DccHealthFacts>).source === 'dcc';
}

/** A person as the policy sees them, from a verified pass or a roster entry. */
export interface Subject {
  /** Stable id of the person within the issuer's namespace (pass `sub`, or staff id). */
  id: string;
  name: string;
  category: Category;
  health: SubjectHealth;
}

/** `dcc`: an EU Digital COVID Certificate (`HC1:`). */
export type CredentialKind = 'health-pass' | 'staff-badge' | 'dcc' | 'unknown';

/** Goods category id of a vehicle pass: lowercase letters, digits and "-" (the profile lists the essential ones). */
export const GOODS_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Protected-header `typ` of a signed vehicle pass; a health pass has `JWT` or none. */
export const VEHICLE_PASS_TYP = 'vehicle-pass+jwt';

/**
 * What a verified vehicle pass says (requirement 10). Not a person: it never reaches the
 * policy alone. The lane holds it until the driver's pass is scanned and decides the two
 * together; plate and goods are recorded in the local ledger only, never published.
 */
export interface VehicleFacts {
  /** Number plate as issued (e.g. 晋A12345). */
  plate: string;
  /** Goods category id, e.g. `food`, `medicine`; the profile lists the essential ones. */
  goods: string;
  /** The driver's pass `sub` this vehicle pass was issued for. */
  driver: string;
}

/** Why a payload could not be turned into a usable credential. Stable codes. */
export const CREDENTIAL_FAILURES = [
  'PASS_MALFORMED',
  'PASS_UNKNOWN_KEY',
  'PASS_SIGNATURE_INVALID',
  'PASS_EXPIRED',
  'PASS_NOT_YET_VALID',
  'PASS_LIFETIME_TOO_LONG',
  'PASS_CLAIMS_INVALID',
  'BADGE_MALFORMED',
  'BADGE_NOT_IN_ROSTER',
  'DCC_INVALID',
  'DCC_UNKNOWN_SIGNER',
  'DCC_SIGNATURE_INVALID',
  'DCC_EXPIRED',
  'DCC_NOT_YET_VALID',
  'CREDENTIAL_UNKNOWN',
  'CREDENTIAL_NOT_TEXT',
] as const;
export type CredentialFailureCode = (typeof CREDENTIAL_FAILURES)[number];

export type ParsedCredential =
  /** issuer: the trust-list label of the key that signed it; issuedAt/expiresAt: epoch ms (claims `iat`/`exp` × 1000). */
  | { ok: true; kind: 'health-pass'; subject: Subject; issuer: string; issuedAt: number; expiresAt: number }
  /** A staff badge still has to be looked up in the roster. */
  | { ok: true; kind: 'staff-badge'; staffId: string }
  /**
   * A vehicle pass: a signed JWS with typ VEHICLE_PASS_TYP from the same issuers. Its
   * failures carry kind 'health-pass' (same format, same PASS_* codes, the detail says
   * "vehicle pass"), so the ledger's credential kinds stay as they are.
   */
  | { ok: true; kind: 'vehicle-pass'; vehicle: VehicleFacts; issuer: string; issuedAt: number; expiresAt: number }
  /**
   * A verified EU DCC. issuer: the issuing country (CWT claim 1) or, without one, the kid of
   * the DSC that signed it; issuedAt/expiresAt: epoch ms, null when the CWT has none.
   */
  | { ok: true; kind: 'dcc'; subject: Subject; issuer: string; issuedAt: number | null; expiresAt: number | null }
  | { ok: false; kind: CredentialKind; code: CredentialFailureCode; detail: string };

/** After the roster lookup: what the policy receives. */
export type ResolvedCredential =
  | { ok: true; kind: 'health-pass' | 'staff-badge' | 'dcc'; subject: Subject }
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
