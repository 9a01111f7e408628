// Every way a DCC can fail, each with the stage it belongs to and a stable code. The
// pipeline throws DccFailure internally; verifyDcc turns it into a DccInvalid, so no
// exception ever reaches a caller. Messages name the field or structure, never a value.
import type { DccStage } from './types.js';

export const DCC_FAILURES = {
  DCC_PREFIX_MISSING: 'prefix',
  DCC_INPUT_TOO_LONG: 'base45',
  DCC_BASE45_INVALID: 'base45',
  DCC_INFLATE_FAILED: 'decompress',
  DCC_TOO_LARGE: 'decompress',
  DCC_CBOR_INVALID: 'cbor',
  DCC_COSE_MALFORMED: 'cose',
  DCC_ALG_UNSUPPORTED: 'cose',
  DCC_KID_MISSING: 'trust',
  DCC_KID_UNKNOWN: 'trust',
  DCC_ALG_KEY_MISMATCH: 'signature',
  DCC_SIGNATURE_INVALID: 'signature',
  DCC_CWT_INVALID: 'cbor',
  DCC_HCERT_MISSING: 'cbor',
  DCC_KEYUSAGE_MISMATCH: 'keyusage',
  DCC_DSC_EXPIRED: 'expired',
  DCC_EXPIRED: 'expired',
  DCC_DSC_NOT_YET_VALID: 'not-yet-valid',
  DCC_NOT_YET_VALID: 'not-yet-valid',
  DCC_SCHEMA_VERSION_UNSUPPORTED: 'schema',
  DCC_SCHEMA_INVALID: 'schema',
} as const satisfies Record<string, DccStage>;
export type DccFailureCode = keyof typeof DCC_FAILURES;

/** Internal: thrown by a stage, caught by verifyDcc. */
export class DccFailure extends Error {
  readonly stage: DccStage;
  constructor(
    readonly code: DccFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'DccFailure';
    this.stage = DCC_FAILURES[code];
  }
}

export function fail(code: DccFailureCode, message: string): never {
  throw new DccFailure(code, message);
}
