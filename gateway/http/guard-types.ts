// Small shared lists for the guard API's validation.
import type { CredentialKind } from '../credentials/types.js';

const KINDS: Record<CredentialKind, true> = { 'health-pass': true, 'staff-badge': true, dcc: true, unknown: true };
export const CREDENTIAL_KINDS_LIST = Object.keys(KINDS) as [CredentialKind, ...CredentialKind[]];
