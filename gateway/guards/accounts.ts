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
   *
   * Parallel attempts must not get round the lock, so the attempt is counted before the
   * (asynchronous) scrypt, in one SQLite transaction that also checks and sets the lock:
   * every attempt is a failure until its PIN proves right, and attempts refused while
   * locked are counted as well (failed_count = attempts since the last success). Afterwards a right PIN signs
   * in only if no other attempt has locked the account meanwhile, and it resets the
   * count only when the row is still exactly as its own reservation left it, so a late
   * result never lowers another attempt's count or lifts another attempt's lock.
   */
  async authenticate(id: string, pin: string): Promise<AuthResult> {
    const reserved = GUARD_ID_PATTERN.test(id) ? this.#reserve(id) : undefined;
    if (reserved === undefined) {
      await verifyPin(pin, await dummyHash());
      return { ok: false, reason: 'bad-credentials' };
    }
    if (reserved.kind === 'locked') return { ok: false, reason: 'locked', until: reserved.until };
    const good = PIN_PATTERN.test(pin) && (await verifyPin(pin, reserved.row.pin_hash));
    if (!good) {
      // Already counted (and locked, if this was the attempt that reached the limit).
      return reserved.lockedUntil === null ? { ok: false, reason: 'bad-credentials' } : { ok: false, reason: 'locked', until: reserved.lockedUntil };
    }
    return this.#settleSuccess(id, reserved.count, reserved.lockedUntil);
  }

  /** One transaction: refuse while locked, else count this attempt (and lock at the limit). */
  #reserve(id: string): Reservation | undefined {
    return this.#db
      .transaction((): Reservation | undefined => {
        const row = this.#row(id);
        if (row === undefined) return undefined;
        const now = this.#now();
        if (row.locked_until !== null && row.locked_until > now) {
          // Counted too, so a right PIN still being checked sees that the lock it set was
          // hit by other attempts and does not lift it on success.
          this.#db.prepare('UPDATE guards SET failed_count = failed_count + 1 WHERE id = ?').run(id);
          return { kind: 'locked', until: row.locked_until };
        }
        // A lock that has run out starts a fresh count.
        const count = (row.locked_until !== null ? 0 : row.failed_count) + 1;
        const lockedUntil = count >= this.#policy.maxFailures ? now + this.#policy.lockoutMs : null;
        this.#db.prepare('UPDATE guards SET failed_count = ?, locked_until = ? WHERE id = ?').run(count, lockedUntil, id);
        return { kind: 'counted', row, count, lockedUntil };
      })
      .immediate();
  }

  /** The right PIN: sign in unless another attempt locked the account meanwhile. */
  #settleSuccess(id: string, count: number, ownLock: number | null): AuthResult {
    return this.#db
      .transaction((): AuthResult => {
        const current = this.#row(id);
        if (current === undefined) return { ok: false, reason: 'bad-credentials' };
        const untouched = current.failed_count === count && current.locked_until === ownLock;
        if (untouched) {
          // Nothing happened since this attempt was counted: it was the last in the row, and right.
          this.#db.prepare('UPDATE guards SET failed_count = 0, locked_until = NULL WHERE id = ?').run(id);
          return { ok: true, guard: toGuard({ ...current, failed_count: 0, locked_until: null }) };
        }
        if (current.locked_until !== null && current.locked_until > this.#now()) {
          return { ok: false, reason: 'locked', until: current.locked_until };
        }
        // Other attempts came in meanwhile: sign in, but leave their count as it is.
        return { ok: true, guard: toGuard(current) };
      })
      .immediate();
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  #row(id: string): GuardRow | undefined {
    return this.#db.prepare<[string], GuardRow>('SELECT * FROM guards WHERE id = ?').get(id);
  }
}

type Reservation =
  | { kind: 'locked'; until: number }
  /** `count`/`lockedUntil`: what this attempt wrote to the row. */
  | { kind: 'counted'; row: GuardRow; count: number; lockedUntil: number | null };

function toGuard(r: GuardRow): Guard {
  return { id: r.id, name: r.name, createdAt: r.created_at, lockedUntil: r.locked_until };
}
