// Public API of the credentials module: QR payload → ParsedCredential → ResolvedCredential.
export * from './types.js';
export { CredentialError, CREDENTIAL_ERROR_CODES } from './errors.js';
export type { CredentialErrorCode } from './errors.js';
export {
  passClaimsSchema,
  passClaimsInputSchema,
  passTimesSchema,
  parsePassClaimsInput,
  claimsToSubject,
  describeClaimsError,
  vehicleClaimsSchema,
  vehicleClaimsInputSchema,
} from './claims.js';
export type { PassClaims, PassClaimsInput, VehicleClaims, VehicleClaimsInput } from './claims.js';
export { trustListFromJwks, trustedKeyFromJwk } from './trust-list.js';
export type { TrustJwk, TrustList, TrustedKey } from './trust-list.js';
export { verifyPass, CLOCK_TOLERANCE_MS, DEFAULT_MAX_PASS_LIFETIME_HOURS, MAX_PASS_CHARS, PASS_ALGORITHM } from './pass.js';
export type { PassRules } from './pass.js';
export { parseBadge, resolveCredential, BADGE_PREFIX, STAFF_ID_PATTERN } from './badge.js';
export { decodeCredential, MAX_PAYLOAD_BYTES } from './decode.js';
export type { DecodeOptions } from './decode.js';
export { dccCredential, dccSubjectId, DCC_CATEGORY } from './dcc-facts.js';
export { generateIssuerKeys, issuePass, issueVehiclePass, DEFAULT_PASS_TTL_SECONDS, ISSUER_KID_PATTERN } from './issue.js';
export type { IssuerKeys, IssuePassOptions } from './issue.js';
