// An EU DCC as the gateway reads it: the verifier's result (./dcc/) turned into the
// ParsedCredential the lane hands to the policy. Pure: no clock, no I/O. What the
// certificate certifies becomes DccHealthFacts (no health code, no travel record: the
// profile's dcc rule says what it stands for); the person becomes a visitor whose id is
// the certificate's identity (standardised names and date of birth), never its UVCI, so
// two certificates of one person get one pseudonym. docs/credentials.md "EU DCC".
import type { DccInvalid, DccResult, DccStage, DccValid, Hcert, HcertName } from './dcc/types.js';
import type { CredentialFailureCode, DccFacts, DccHealthFacts, DccTestType, ParsedCredential, Subject, TestRecord } from './types.js';

/** SNOMED CT code of COVID-19, the only disease (`tg`) accepted. */
export const DCC_COVID_19 = '840539006';

/** `tt` of a test entry → the kind of test (LOINC). Anything else is 'other'. */
export const DCC_TEST_TYPES: Readonly<Record<string, DccTestType>> = {
  /** Nucleic acid amplification (PCR and the like): the source's 核酸检测. */
  'LP6464-4': 'naat',
  /** Rapid antigen test. */
  'LP217198-3': 'rat',
};

/** `tr` of a test entry (SNOMED CT) → result. Any other value is not a result we can read. */
export const DCC_TEST_RESULTS: Readonly<Record<string, TestRecord['result']>> = {
  '260415000': 'negative',
  '260373001': 'positive',
};

/** The category a DCC holder has: someone from outside the site. */
export const DCC_CATEGORY = 'visitor' as const;

/** Prefix of a DCC subject's id, so it can never equal a staff id (no ":" there). */
export const DCC_SUBJECT_PREFIX = 'dcc:';

type Failure = Extract<ParsedCredential, { ok: false }>;

function fail(code: CredentialFailureCode, detail: string): Failure {
  return { ok: false, kind: 'dcc', code, detail };
}

/** Which failure code a verifier stage ends in: the signer's own code for an unknown DSC. */
export function dccFailureCode(stage: DccStage): CredentialFailureCode {
  switch (stage) {
    case 'trust':
      return 'DCC_UNKNOWN_SIGNER';
    case 'signature':
    case 'keyusage':
      return 'DCC_SIGNATURE_INVALID';
    case 'expired':
      return 'DCC_EXPIRED';
    case 'not-yet-valid':
      return 'DCC_NOT_YET_VALID';
    default:
      return 'DCC_INVALID';
  }
}

/** A failed verification as a credential failure; the verifier's message names no person. */
export function dccFailure(result: DccInvalid): Failure {
  return fail(dccFailureCode(result.stage), `EU DCC failed at stage ${result.stage} (${result.code}): ${result.message}`);
}

/** Upper case, trimmed: the ICAO standardised names already are; a sloppy issuer must not split one person in two. */
function standard(s: string | undefined): string {
  return typeof s === 'string' ? s.trim().toUpperCase() : '';
}

/**
 * The identity a DCC subject is known by: `dcc:<fnt><<<gnt>/<dob>` (standardised family and
 * given names, date of birth as written). Not the UVCI: a new certificate of the same
 * person has the same identity, so the keyed pseudonym over it is the same too. It stays
 * on the gateway (local facts such as an approval are keyed by it); only its pseudonym is
 * recorded and published.
 */
export function dccSubjectId(nam: HcertName, dob: string): string {
  return `${DCC_SUBJECT_PREFIX}${standard(nam.fnt)}<<${standard(nam.gnt)}/${typeof dob === 'string' ? dob.trim() : ''}`;
}

/** The name as printed (family name first, as the kiosk masks it), else the standardised one. */
export function dccDisplayName(nam: HcertName): string {
  const family = nonEmpty(nam.fn) ?? nam.fnt.replace(/</g, ' ').trim();
  const given = nonEmpty(nam.gn) ?? (nam.gnt ?? '').replace(/</g, ' ').trim();
  return given === '' ? family : `${family} ${given}`;
}

function nonEmpty(s: string | undefined): string | undefined {
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : undefined;
}

/** The one entry of the certificate's type, or why there is not exactly one. */
function onlyEntry<T>(list: T[] | undefined, what: string): T | string {
  if (!Array.isArray(list) || list.length === 0) return `has no ${what} entry`;
  if (list.length > 1) return `has ${list.length} ${what} entries; a certificate holds exactly one`;
  return list[0] as T;
}

/** What the certificate certifies, as DccHealthFacts, or a sentence saying why it cannot be read. */
export function dccHealthFacts(valid: Pick<DccValid, 'type' | 'hcert'>): DccHealthFacts | string {
  const h: Hcert = valid.hcert;
  switch (valid.type) {
    case 'test': {
      const t = onlyEntry(h.t, 'test');
      if (typeof t === 'string') return t;
      if (t.tg !== DCC_COVID_19) return `test entry is for disease ${JSON.stringify(t.tg)}, not COVID-19 (${DCC_COVID_19})`;
      const result = Object.hasOwn(DCC_TEST_RESULTS, t.tr) ? DCC_TEST_RESULTS[t.tr] : undefined;
      if (result === undefined) return `test result ${JSON.stringify(t.tr)} is neither not detected (260415000) nor detected (260373001)`;
      const testType: DccTestType = (Object.hasOwn(DCC_TEST_TYPES, t.tt) ? DCC_TEST_TYPES[t.tt] : undefined) ?? 'other';
      const dcc: DccFacts = { type: 'test', testType };
      return { source: 'dcc', dcc, test: { result, sampledAt: t.sc } };
    }
    case 'vaccination': {
      const v = onlyEntry(h.v, 'vaccination');
      if (typeof v === 'string') return v;
      if (v.tg !== DCC_COVID_19) return `vaccination entry is for disease ${JSON.stringify(v.tg)}, not COVID-19 (${DCC_COVID_19})`;
      return { source: 'dcc', dcc: { type: 'vaccination', dose: v.dn, series: v.sd, date: v.dt } };
    }
    case 'recovery': {
      const r = onlyEntry(h.r, 'recovery');
      if (typeof r === 'string') return r;
      if (r.tg !== DCC_COVID_19) return `recovery entry is for disease ${JSON.stringify(r.tg)}, not COVID-19 (${DCC_COVID_19})`;
      return { source: 'dcc', dcc: { type: 'recovery', validFrom: r.df, validUntil: r.du } };
    }
    default:
      return `certificate type ${JSON.stringify(valid.type)} is not vaccination, test or recovery`;
  }
}

/** The subject of a verified certificate, or a sentence saying why it has none. */
export function dccSubject(valid: Pick<DccValid, 'type' | 'hcert'>): Subject | string {
  const nam = valid.hcert.nam;
  if (typeof nam?.fnt !== 'string' || nam.fnt.trim() === '') return 'has no standardised family name (nam.fnt)';
  if (typeof valid.hcert.dob !== 'string') return 'has no date of birth (dob)';
  const health = dccHealthFacts(valid);
  if (typeof health === 'string') return health;
  return { id: dccSubjectId(nam, valid.hcert.dob), name: dccDisplayName(nam), category: DCC_CATEGORY, health };
}

/** The verifier's result as the ParsedCredential the lane gets. */
export function dccCredential(result: DccResult): ParsedCredential {
  if (!result.valid) return dccFailure(result);
  const subject = dccSubject(result);
  if (typeof subject === 'string') return fail('DCC_INVALID', `EU DCC ${subject}`);
  return { ok: true, kind: 'dcc', subject, issuer: result.issuer ?? result.kid, issuedAt: result.issuedAt, expiresAt: result.expiresAt };
}
