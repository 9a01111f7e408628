// Public face of the store: everything else imports from here.
export type * from './types.js';
export { StoreError, STORE_ERROR_CODES, isStoreError, type StoreErrorCode } from './errors.js';
export {
  openStore,
  verifyLedger,
  CHAIN_SCHEMA_VERSION,
  DATABASE_FILE,
  DEFAULT_QUERY_LIMIT,
  MAX_QUERY_LIMIT,
  MAX_OUTBOX_BATCH,
  PAGE_CACHE_KB,
  type OpenStoreOptions,
  type SqliteStore,
  type StoreSettings,
} from './sqlite-store.js';
export { MIGRATIONS, LATEST_SCHEMA_VERSION, migrate, type Migration, type MigrationResult } from './migrations.js';
export type { ChainHead, ChainRecord, UpdateApplied } from './chain.js';
export type { ChainProblem, ChainProblemKind, ChainReport } from './verify.js';
export { STAFF_ID_PATTERN, isIsoDate, isIsoTimestamp } from './validate.js';
export {
  parseRosterCsv,
  ROSTER_CSV_COLUMNS,
  FUTURE_TOLERANCE_MS,
  type RosterCsvColumn,
  type RosterCsvError,
  type RosterCsvResult,
} from './roster-csv.js';
export { RetentionRoom, expiryBefore, readAheadPlans, type ReadAheadKind, localDate, type CheckpointBody, type CutStatement, type HealthPurge, type Step } from './retention.js';
export { GATEWAY_KEY_FILE, loadOrCreateGatewayKey, verifyGatewaySignature, type GatewayKey } from './gateway-key.js';
export { BOUND_PAGES, type WalCheckpointStats } from './wal-checkpointer.js';
export { NAME_SCAN_ROWS, RANGE_WHOLE_ROWS, type LedgerSearchOptions, type LedgerSearchPage } from './ledger.js';
