import { describe, expect, it } from 'vitest';
import { CREDENTIAL_FAILURES, type CredentialFailureCode, type CredentialKind } from '../../../gateway/credentials/types.js';
import { decide } from '../../../gateway/policy/decide.js';
import type { Alert, Outcome } from '../../../gateway/policy/types.js';
import { input } from './fixtures.js';

const KIND: Record<CredentialFailureCode, CredentialKind> = {
  PASS_MALFORMED: 'health-pass',
  PASS_UNKNOWN_KEY: 'health-pass',
  PASS_SIGNATURE_INVALID: 'health-pass',
  PASS_EXPIRED: 'health-pass',
  PASS_NOT_YET_VALID: 'health-pass',
  PASS_LIFETIME_TOO_LONG: 'health-pass',
  PASS_CLAIMS_INVALID: 'health-pass',
  BADGE_MALFORMED: 'staff-badge',
  BADGE_NOT_IN_ROSTER: 'staff-badge',
  DCC_INVALID: 'dcc',
  DCC_UNKNOWN_SIGNER: 'dcc',
  DCC_SIGNATURE_INVALID: 'dcc',
  DCC_EXPIRED: 'dcc',
  DCC_NOT_YET_VALID: 'dcc',
  CREDENTIAL_UNKNOWN: 'unknown',
  CREDENTIAL_NOT_TEXT: 'unknown',
};

const forged: Alert[] = [{ kind: 'forged-pass', severity: 'warning', code: '' }];
const TABLE: [string, CredentialFailureCode, Outcome, Alert[]][] = [
  ['refuses a malformed pass', 'PASS_MALFORMED', 'refuse', []],
  ['refuses a pass signed by an unknown key and raises a forged-pass alert', 'PASS_UNKNOWN_KEY', 'refuse', forged],
  ['refuses a pass with a bad signature and raises a forged-pass alert', 'PASS_SIGNATURE_INVALID', 'refuse', forged],
  ['refuses an expired pass', 'PASS_EXPIRED', 'refuse', []],
  ['refuses a pass that is not valid yet', 'PASS_NOT_YET_VALID', 'refuse', []],
  ['refuses a pass valid for longer than the configured maximum', 'PASS_LIFETIME_TOO_LONG', 'refuse', []],
  ['refuses a pass with invalid claims', 'PASS_CLAIMS_INVALID', 'refuse', []],
  ['refers a malformed badge to the guard', 'BADGE_MALFORMED', 'refer', []],
  ['refers a badge missing from the roster to the guard', 'BADGE_NOT_IN_ROSTER', 'refer', []],
  ['refuses an unreadable EU DCC', 'DCC_INVALID', 'refuse', []],
  ['refuses an EU DCC from a signer not in the DCC trust list, without a forgery alert (most are genuine, from a country not configured)', 'DCC_UNKNOWN_SIGNER', 'refuse', []],
  ['refuses an EU DCC whose signature does not verify and raises a forged-pass alert', 'DCC_SIGNATURE_INVALID', 'refuse', forged],
  ['refuses an expired EU DCC', 'DCC_EXPIRED', 'refuse', []],
  ['refuses an EU DCC that is not valid yet', 'DCC_NOT_YET_VALID', 'refuse', []],
  ['refers an unknown credential type to the guard', 'CREDENTIAL_UNKNOWN', 'refer', []],
  ['refers a code that is not text to the guard', 'CREDENTIAL_NOT_TEXT', 'refer', []],
];

describe('decide: credential failures', () => {
  it('has a row for every code in CREDENTIAL_FAILURES', () => {
    expect(TABLE.map((r) => r[1]).sort()).toEqual([...CREDENTIAL_FAILURES].sort());
  });

  it.each(TABLE)('%s', (_name, code, outcome, alerts) => {
    const v = decide(input({ credential: { ok: false, kind: KIND[code], code, detail: 'test' }, readings: [36.5] }));
    expect(v.outcome).toBe(outcome);
    if (v.outcome === 'measure') throw new Error('unreachable');
    expect(v.reasons.map((r) => r.code)).toEqual([code]);
    expect(v.alerts).toEqual(alerts.map((a) => ({ ...a, code })));
    // A failed credential never relies on a temperature.
    expect(v.temperature).toBeUndefined();
  });

  it.each(['PASS_FROM_THE_FUTURE', 'toString'])('refers a failure code it does not know (%s) instead of throwing', (unknown) => {
    const code = unknown as CredentialFailureCode;
    const v = decide(input({ credential: { ok: false, kind: 'unknown', code, detail: '' } }));
    expect(v).toEqual({ outcome: 'refer', reasons: [expect.objectContaining({ code: 'CREDENTIAL_UNKNOWN' })], alerts: [] });
  });
});
