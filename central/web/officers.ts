// Officer accounts of the office console: id, name, role and a scrypt-hashed password
// (gateway/guards/pin.ts), with a lockout that holds under parallel attempts. Each attempt
// is counted in the database (row locked, one transaction) BEFORE its scrypt check, so
// a burst of N parallel guesses gets at most `maxFailures` checks, exactly as the same
// guesses sent one after another; a success only clears the count while no lock is set.
import { dummyHash, hashPin, verifyPin } from '../../gateway/guards/pin.js';
import { CodedError } from '../../gateway/errors.js';
import type { Db } from '../db/adapter.js';
import { audit } from './audit.js';

export const ROLES = ['viewer', 'duty-leader', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);

export const OFFICER_ID = /^[a-z0-9][a-z0-9._-]{0,31}$/;
/** Passwords, not PINs: the console is reached over the office network, not at a gate. */
export const SECRET_MIN = 10;
export const SECRET_MAX = 128;

export type OfficerErrorCode = 'OFFICER_INVALID' | 'OFFICER_EXISTS' | 'OFFICER_UNKNOWN' | 'OFFICER_DB_BUSY';
export class OfficerError extends CodedError<OfficerErrorCode> {
  constructor(code: OfficerErrorCode, message: string) {
    super(code, `${code}: ${message}`);
  }
}

export interface Officer {
  id: string;
  name: string;
  role: Role;
  lockedUntil: number | null;
}

export type SignInResult =
  | { ok: true; officer: Officer }
  | { ok: false; code: 'SIGN_IN_FAILED' }
  | { ok: false; code: 'ACCOUNT_LOCKED'; retryAfterMs: number };

export interface OfficerOptions {
  maxFailures: number;
  lockoutMs: number;
  now?: () => number;
  /** The scrypt check; tests hold it open to order a success after a lock. */
  verify?: (secret: string, hash: string) => Promise<boolean>;
}

const ms = (v: unknown): number | null => (v === null || v === undefined ? null : new Date(v as string | Date).getTime());

export function checkSecret(secret: string): void {
  const n = [...secret].length;
  if (n < SECRET_MIN || n > SECRET_MAX) {
    throw new OfficerError('OFFICER_INVALID', `the password must have ${SECRET_MIN}-${SECRET_MAX} characters, got ${n}`);
  }
}

export class Officers {
  readonly #now: () => number;
  readonly #verify: (secret: string, hash: string) => Promise<boolean>;

  constructor(
    readonly db: Db,
    readonly opts: OfficerOptions,
  ) {
    this.#now = opts.now ?? Date.now;
    this.#verify = opts.verify ?? verifyPin;
  }

  async add(o: { id: string; name: string; role: string; secret: string }, client: string): Promise<void> {
    if (!OFFICER_ID.test(o.id)) throw new OfficerError('OFFICER_INVALID', `id: expected 1-32 lowercase letters, digits, ".", "_" or "-", got "${o.id}"`);
    if (o.name.trim() === '' || o.name.length > 100) throw new OfficerError('OFFICER_INVALID', 'name: expected 1-100 characters');
    if (!isRole(o.role)) throw new OfficerError('OFFICER_INVALID', `role: expected one of ${ROLES.join(', ')}, got "${o.role}"`);
    checkSecret(o.secret);
    const hash = await hashPin(o.secret);
    const role = o.role;
    await this.db.transaction(async (tx) => {
      const rows = await tx.query('INSERT INTO officers (id, name, role, secret_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id', [
        o.id,
        o.name.trim(),
        role,
        hash,
      ]);
      if (rows.length === 0) throw new OfficerError('OFFICER_EXISTS', `an officer "${o.id}" exists already; remove it first to replace it`);
      await audit(tx, { at: this.#now(), officerId: o.id, action: 'officer-added', client, detail: { name: o.name.trim(), role } });
    });
  }

  /** Removes the account; its sessions end with it (ON DELETE CASCADE). */
  async remove(id: string, client: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = await tx.query('DELETE FROM officers WHERE id = $1 RETURNING id', [id]);
      if (rows.length === 0) throw new OfficerError('OFFICER_UNKNOWN', `no officer "${id}"`);
      await audit(tx, { at: this.#now(), officerId: id, action: 'officer-removed', client });
    });
  }

  async list(): Promise<Officer[]> {
    const rows = await this.db.query<{ id: string; name: string; role: Role; locked_until: unknown }>('SELECT id, name, role, locked_until FROM officers ORDER BY id');
    const now = this.#now();
    return rows.map((r) => {
      const until = ms(r.locked_until);
      return { id: r.id, name: r.name, role: r.role, lockedUntil: until !== null && until > now ? until : null };
    });
  }

  async signIn(id: string, secret: string, client: string): Promise<SignInResult> {
    const now = this.#now();
    const { maxFailures, lockoutMs } = this.opts;
    // 1. Count the attempt (and see a lock) before any scrypt work, under the row lock.
    const reserved = await this.db.transaction(async (tx) => {
      const rows = await tx.query<{ secret_hash: string; name: string; role: Role; failures: number; locked_until: unknown }>(
        'SELECT secret_hash, name, role, failures, locked_until FROM officers WHERE id = $1 FOR UPDATE',
        [id],
      );
      const row = rows[0];
      if (row === undefined) return null;
      const until = ms(row.locked_until);
      if (until !== null && until > now) {
        await tx.query('UPDATE officers SET failures = failures + 1 WHERE id = $1', [id]);
        return { row, ordinal: row.failures + 1, lockedUntil: until };
      }
      // A lock that has run out starts a fresh count.
      const ordinal = (until === null ? row.failures : 0) + 1;
      await tx.query('UPDATE officers SET failures = $2, locked_until = NULL WHERE id = $1', [id, ordinal]);
      return { row, ordinal, lockedUntil: null };
    });
    if (reserved === null) {
      await this.#verify(secret, await dummyHash()); // as long as a wrong password
      await audit(this.db, { at: now, officerId: id, action: 'sign-in-failed', client, detail: { reason: 'unknown id' } });
      return { ok: false, code: 'SIGN_IN_FAILED' };
    }
    if (reserved.lockedUntil !== null || reserved.ordinal > maxFailures) {
      // Locked, or already `maxFailures` attempts counted and not yet answered: no check.
      await audit(this.db, { at: now, officerId: id, action: 'sign-in-failed', client, detail: { reason: 'locked' } });
      return { ok: false, code: 'ACCOUNT_LOCKED', retryAfterMs: reserved.lockedUntil === null ? lockoutMs : reserved.lockedUntil - now };
    }
    // 2. The scrypt check, outside any transaction (~50 ms).
    const right = await this.#verify(secret, reserved.row.secret_hash);
    if (right) {
      // A lock set meanwhile by parallel wrong attempts stays: this success is refused.
      const cleared = await this.db.query('UPDATE officers SET failures = 0 WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING id', [id, new Date(now)]);
      if (cleared.length === 0) {
        const rows = await this.db.query<{ locked_until: unknown }>('SELECT locked_until FROM officers WHERE id = $1', [id]);
        await audit(this.db, { at: now, officerId: id, action: 'sign-in-failed', client, detail: { reason: 'locked' } });
        return { ok: false, code: 'ACCOUNT_LOCKED', retryAfterMs: (ms(rows[0]?.locked_until) ?? now) - now };
      }
      await audit(this.db, { at: now, officerId: id, action: 'sign-in', client });
      return { ok: true, officer: { id, name: reserved.row.name, role: reserved.row.role, lockedUntil: null } };
    }
    // 3. Wrong: the attempt that was the maxFailures-th in its window sets the lock.
    if (reserved.ordinal >= maxFailures) {
      const until = now + lockoutMs;
      await this.db.transaction(async (tx) => {
        await tx.query('UPDATE officers SET locked_until = $2 WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $3)', [id, new Date(until), new Date(now)]);
        await audit(tx, { at: now, officerId: id, action: 'sign-in-failed', client, detail: { reason: 'wrong password' } });
        await audit(tx, { at: now, officerId: id, action: 'lockout', client, detail: { failures: reserved.ordinal, until: new Date(until).toISOString() } });
      });
      return { ok: false, code: 'ACCOUNT_LOCKED', retryAfterMs: lockoutMs };
    }
    await audit(this.db, { at: now, officerId: id, action: 'sign-in-failed', client, detail: { reason: 'wrong password' } });
    return { ok: false, code: 'SIGN_IN_FAILED' };
  }
}
