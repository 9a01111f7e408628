// One error type for the credentials module. Only programming and configuration problems
// throw (bad claims handed to the issuer, a bad trust key); a bad *payload* at the gate
// never throws, it becomes a ParsedCredential failure with a CredentialFailureCode.
import { CodedError } from '../errors.js';

export const CREDENTIAL_ERROR_CODES = [
  /** Claims handed to issuePass do not match the pass schema. */
  'CLAIMS_INVALID',
  /** The private JWK handed to issuePass, or the kid for generateIssuerKeys, is unusable. */
  'ISSUER_KEY_INVALID',
  /** A trust-list entry is not an Ed25519 public JWK with a kid. */
  'TRUST_KEY_INVALID',
  /** A private key (JWK with "d") was offered as a trust-list entry. */
  'TRUST_KEY_PRIVATE',
  /** Two trust-list entries share one kid, so the choice of key would be ambiguous. */
  'TRUST_KEY_DUPLICATE',
  /** The trust directory cannot be listed or one of its files cannot be read. */
  'TRUST_DIR_UNREADABLE',
  /** A caller broke the contract of a function (e.g. `now` is not a finite number). */
  'INVALID_ARGUMENT',
] as const;
export type CredentialErrorCode = (typeof CREDENTIAL_ERROR_CODES)[number];

export class CredentialError extends CodedError<CredentialErrorCode> {
  /**
   * @param code stable, searchable; printed at the start of the message
   * @param detail what was wrong, where, and what was expected
   * @param source the file or list position the problem was found in, when there is one
   */
  constructor(
    code: CredentialErrorCode,
    readonly detail: string,
    readonly source?: string,
  ) {
    super(code, `[${code}] ${source === undefined ? '' : `${source}: `}${detail}`);
  }
}
