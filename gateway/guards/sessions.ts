// Guard sessions, in memory: a restart signs every guard out, which is the safe side.
// The cookie carries a random token; only its SHA-256 is kept, so a heap dump does not
// hand out live sessions. Each session has its own CSRF token for state-changing calls.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SessionPolicy {
  /** Absolute lifetime from sign-in. */
  ttlMs: number;
  /** Ended after this long without a request. */
  idleMs: number;
}

export interface Session {
  guardId: string;
  csrfToken: string;
  createdAt: number;
  lastSeen: number;
  expiresAt: number;
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class SessionManager {
  readonly #sessions = new Map<string, Session>();
  readonly #policy: SessionPolicy;
  readonly #now: () => number;

  constructor(policy: SessionPolicy, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
  }

  /** Returns the cookie token (shown once) and the session. */
  create(guardId: string): { token: string; session: Session } {
    this.#sweep();
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    const session: Session = {
      guardId,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now,
      lastSeen: now,
      expiresAt: now + this.#policy.ttlMs,
    };
    this.#sessions.set(digest(token), session);
    return { token, session };
  }

  /** The live session of a cookie token, touched; undefined when unknown or expired. */
  get(token: string | undefined, touch = true): Session | undefined {
    if (token === undefined || token.length === 0 || token.length > 128) return undefined;
    const key = digest(token);
    const s = this.#sessions.get(key);
    if (s === undefined) return undefined;
    const now = this.#now();
    if (now >= s.expiresAt || now - s.lastSeen >= this.#policy.idleMs) {
      this.#sessions.delete(key);
      return undefined;
    }
    if (touch) s.lastSeen = now;
    return s;
  }

  /** Still valid, without counting as activity (event streams check this). */
  alive(token: string | undefined): boolean {
    return this.get(token, false) !== undefined;
  }

  end(token: string | undefined): void {
    if (token !== undefined) this.#sessions.delete(digest(token));
  }

  /** Ends every session of a guard (removed account). */
  endAllOf(guardId: string): void {
    for (const [k, s] of this.#sessions) if (s.guardId === guardId) this.#sessions.delete(k);
  }

  static csrfMatches(session: Session, sent: string | undefined): boolean {
    if (sent === undefined) return false;
    const a = Buffer.from(session.csrfToken);
    const b = Buffer.from(sent);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [k, s] of this.#sessions) {
      if (now >= s.expiresAt || now - s.lastSeen >= this.#policy.idleMs) this.#sessions.delete(k);
    }
  }
}
