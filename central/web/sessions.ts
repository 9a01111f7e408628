// Console sessions in the database (so every instance behind one name knows them): a
// random token in an HttpOnly cookie, only its SHA-256 stored; an absolute lifetime and
// an idle timeout, both checked and the activity stamp moved in one statement.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/adapter.js';
import type { Role } from './officers.js';

export interface ConsoleSession {
  officerId: string;
  name: string;
  role: Role;
  csrfToken: string;
  expiresAt: number;
}

const hashToken = (t: string): string => createHash('sha256').update(t, 'utf8').digest('hex');

export class Sessions {
  readonly #now: () => number;

  constructor(
    readonly db: Queryable,
    readonly opts: { ttlMs: number; idleMs: number; now?: () => number },
  ) {
    this.#now = opts.now ?? Date.now;
  }

  /** A new session for a signed-in officer; returns the cookie token. */
  async create(officerId: string): Promise<{ token: string; csrfToken: string }> {
    const now = this.#now();
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    // Old sessions of this officer that ran out are cleared here, not by a timer.
    await this.db.query('DELETE FROM officer_sessions WHERE officer_id = $1 AND (expires_at <= $2 OR last_seen_at <= $3)', [
      officerId,
      new Date(now),
      new Date(now - this.opts.idleMs),
    ]);
    await this.db.query(
      'INSERT INTO officer_sessions (token_hash, officer_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)',
      [hashToken(token), officerId, csrfToken, new Date(now), new Date(now + this.opts.ttlMs)],
    );
    return { token, csrfToken };
  }

  /**
   * The live session of a cookie token, or undefined. It counts as activity unless
   * `touch` is false (a page's own background refresh must not keep an unattended
   * console signed in past the idle timeout).
   */
  async get(token: string | undefined, touch = true): Promise<ConsoleSession | undefined> {
    if (token === undefined || token.length === 0 || token.length > 200) return undefined;
    const now = this.#now();
    const rows = await this.db.query<{ officer_id: string; name: string; role: Role; csrf_token: string; expires_at: unknown }>(
      touch
        ? `UPDATE officer_sessions s SET last_seen_at = $2
             FROM officers o
            WHERE s.token_hash = $1 AND o.id = s.officer_id AND s.expires_at > $2 AND s.last_seen_at > $3
            RETURNING s.officer_id, o.name, o.role, s.csrf_token, s.expires_at`
        : `SELECT s.officer_id, o.name, o.role, s.csrf_token, s.expires_at
             FROM officer_sessions s JOIN officers o ON o.id = s.officer_id
            WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3`,
      [hashToken(token), new Date(now), new Date(now - this.opts.idleMs)],
    );
    const r = rows[0];
    if (r === undefined) return undefined;
    return { officerId: r.officer_id, name: r.name, role: r.role, csrfToken: r.csrf_token, expiresAt: new Date(r.expires_at as string | Date).getTime() };
  }

  async end(token: string): Promise<void> {
    await this.db.query('DELETE FROM officer_sessions WHERE token_hash = $1', [hashToken(token)]);
  }
}
