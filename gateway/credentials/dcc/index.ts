// The EU Digital COVID Certificate ("HC1:") verifier: pure, no I/O. See docs/dcc.md.
export * from './types.js';
export { buildDccTrust, DCC_EKU_OIDS, type DccSigner, type DccTrust } from './trust.js';
export { verifyDcc, MAX_QR_CHARS } from './verify.js';
export { DCC_FAILURES, type DccFailureCode } from './failure.js';
