// Guard accounts in the gateway's SQLite file (table `guards`, store migration 3): id,
// display name, scrypt PIN hash, and the failure counter behind the lockout. Its own
// connection to the store's file (WAL: readers and writers of the store are not blocked).
import Database from 'better-sqlite3';
import { GuardError } from './errors.js';
import { PIN_PATTERN, dummyHash, hashPin, verifyPin } from './pin.js';

/** Like staff ids on badges, so a guard's badge number can be the guard id. */
export const GUARD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;

export interface Guard {
  id: string;
  name: string;
  createdAt: number;
  /** Epoch ms until which sign-in is refused; null when not locked. */
  lockedUntil: number | null;
}

export interface LockoutPolicy {
  /** Consecutive failures that lock the account. */
  maxFailures: number;
  /** How long a locked account stays locked. */
  lockoutMs: number;
}

export type AuthResult =
  | { ok: true; guard: Guard }
  | { ok: false; reason: 'bad-credentials' }
  | { ok: false; reason: 'locked'; until: number };

interface GuardRow {
  id: string;
  name: string;
  pin_hash: string;
  created_at: number;
  failed_count: number;
  locked_until: number | null;
}

export function checkGuardId(id: string): void {
  if (!GUARD_ID_PATTERN.test(id)) {
    throw new GuardError('GUARD_INVALID_ID', `guard id ${JSON.stringify(id)}: expected letters, digits and "-", 1-32 characters, starting with a letter or digit`);
  }
}

export function checkPin(pin: string): void {
  if (!PIN_PATTERN.test(pin)) throw new GuardError('GUARD_INVALID_PIN', 'PIN: expected 6 to 12 digits');
}

export class GuardAccounts {
  readonly #db: Database.Database;
  readonly #policy: LockoutPolicy;
  readonly #now: () => number;

  /** `file`: the store's gateway.sqlite, already migrated by openStore. */
  constructor(file: string, policy: LockoutPolicy, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
    this.#db = new Database(file, { timeout: 5000, fileMustExist: true });
    this.#db.pragma('synchronous = FULL');
    const has = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'guards'").get();
    if (has === undefined) {
      this.#db.close();
      throw new GuardError('GUARD_STORE_UNAVAILABLE', `${file} has no guards table (expected store schema version 3 or later; open it with the gateway first)`);
    }
  }

  list(): Guard[] {
    const rows = this.#db.prepare<[], GuardRow>('SELECT * FROM guards ORDER BY id').all();
    return rows.map(toGuard);
  }

  get(id: string): Guard | undefined {
    const row = this.#row(id);
    return row === undefined ? undefined : toGuard(row);
  }

  async add(id: string, name: string, pin: string): Promise<Guard> {
    checkGuardId(id);
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 64) throw new GuardError('GUARD_INVALID_NAME', 'name: expected 1 to 64 characters');
    checkPin(pin);
    const hash = await hashPin(pin);
    try {
      this.#db.prepare('INSERT INTO guards (id, name, pin_hash, created_at, failed_count) VALUES (?, ?, ?, ?, 0)').run(id, trimmed, hash, this.#now());
    } catch (err) {
      if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_CONSTRAINT')) {
        throw new GuardError('GUARD_EXISTS', `guard ${id} exists already; remove it first to change the PIN`, err);
      }
      throw err;
    }
    const guard = this.get(id);
    if (guard === undefined) throw new Error(`guard ${id} vanished after insert`);
    return guard;
  }

  remove(id: string): void {
    const n = this.#db.prepare('DELETE FROM guards WHERE id = ?').run(id).changes;
    if (n === 0) throw new GuardError('GUARD_UNKNOWN', `no guard ${JSON.stringify(id)}`);
  }

  /**
   * Checks id + PIN. `maxFailures` wrong PINs in a row lock the account for `lockoutMs`;
   * while locked, even the right PIN is refused. Unknown ids cost the same scrypt time.
   */
  async authenticate(id: string, pin: string): Promise<AuthResult> {
    const row = GUARD_ID_PATTERN.test(id) ? this.#row(id) : undefined;
    if (row === undefined) {
      await verifyPin(pin, await dummyHash());
      return { ok: false, reason: 'bad-credentials' };
    }
    const now = this.#now();
    if (row.locked_until !== null && row.locked_until > now) {
      return { ok: false, reason: 'locked', until: row.locked_until };
    }
    const good = PIN_PATTERN.test(pin) && (await verifyPin(pin, row.pin_hash));
    // Re-read after the await: another attempt may have changed the counter meanwhile.
    const current = this.#row(id);
    if (current === undefined) return { ok: false, reason: 'bad-credentials' };
    if (good) {
      this.#db.prepare('UPDATE guards SET failed_count = 0, locked_until = NULL WHERE id = ?').run(id);
      return { ok: true, guard: toGuard({ ...current, failed_count: 0, locked_until: null }) };
    }
    const failures = (current.locked_until !== null && current.locked_until <= now ? 0 : current.failed_count) + 1;
    if (failures >= this.#policy.maxFailures) {
      const until = now + this.#policy.lockoutMs;
      this.#db.prepare('UPDATE guards SET failed_count = 0, locked_until = ? WHERE id = ?').run(until, id);
      return { ok: false, reason: 'locked', until };
    }
    this.#db.prepare('UPDATE guards SET failed_count = ?, locked_until = NULL WHERE id = ?').run(failures, id);
    return { ok: false, reason: 'bad-credentials' };
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #row(id: string): GuardRow | undefined {
    return this.#db.prepare<[string], GuardRow>('SELECT * FROM guards WHERE id = ?').get(id);
  }
}

function toGuard(r: GuardRow): Guard {
  return { id: r.id, name: r.name, createdAt: r.created_at, lockedUntil: r.locked_until };
}
