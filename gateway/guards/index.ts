export { GuardAccounts, GUARD_ID_PATTERN, checkGuardId, checkPin, type AuthResult, type Guard, type LockoutPolicy } from './accounts.js';
export { GuardError, GUARD_ERROR_CODES, type GuardErrorCode } from './errors.js';
export { PIN_PATTERN, hashPin, verifyPin } from './pin.js';
export { SessionManager, type Session, type SessionPolicy } from './sessions.js';
