import { describe, expect, it } from 'vitest';
import { SessionManager } from '../../../gateway/guards/sessions.js';

function manager(ttlMs = 60 * 60_000, idleMs = 10 * 60_000) {
  let now = 1_000_000;
  return { sessions: new SessionManager({ ttlMs, idleMs }, () => now), advance: (ms: number) => (now += ms) };
}

describe('guard sessions', () => {
  it('finds a session by its cookie token and gives it a CSRF token of its own', () => {
    const { sessions } = manager();
    const a = sessions.create('G-01');
    const b = sessions.create('G-02');
    expect(sessions.get(a.token)?.guardId).toBe('G-01');
    expect(sessions.get(b.token)?.guardId).toBe('G-02');
    expect(a.token).not.toBe(b.token);
    expect(a.session.csrfToken).not.toBe(b.session.csrfToken);
    expect(SessionManager.csrfMatches(a.session, a.session.csrfToken)).toBe(true);
    expect(SessionManager.csrfMatches(a.session, b.session.csrfToken)).toBe(false);
    expect(SessionManager.csrfMatches(a.session, undefined)).toBe(false);
  });

  it('knows no session for a missing, unknown or absurdly long token', () => {
    const { sessions } = manager();
    sessions.create('G-01');
    expect(sessions.get(undefined)).toBeUndefined();
    expect(sessions.get('')).toBeUndefined();
    expect(sessions.get('nope')).toBeUndefined();
    expect(sessions.get('x'.repeat(1000))).toBeUndefined();
  });

  it('ends a session after its lifetime even while it is in use', () => {
    const { sessions, advance } = manager(60 * 60_000, 10 * 60_000);
    const { token } = sessions.create('G-01');
    for (let i = 0; i < 11; i++) {
      advance(5 * 60_000);
      expect(sessions.get(token)).toBeDefined();
    }
    advance(5 * 60_000);
    expect(sessions.get(token)).toBeUndefined();
  });

  it('ends an idle session, and a stream check does not count as activity', () => {
    const { sessions, advance } = manager(60 * 60_000, 10 * 60_000);
    const { token } = sessions.create('G-01');
    advance(9 * 60_000);
    expect(sessions.alive(token)).toBe(true);
    advance(60_000);
    expect(sessions.alive(token)).toBe(false);
    expect(sessions.get(token)).toBeUndefined();
  });

  it('ends one session on sign-out and all of a guard on removal', () => {
    const { sessions } = manager();
    const a = sessions.create('G-01');
    const b = sessions.create('G-01');
    const c = sessions.create('G-02');
    sessions.end(a.token);
    expect(sessions.get(a.token)).toBeUndefined();
    expect(sessions.get(b.token)).toBeDefined();
    sessions.endAllOf('G-01');
    expect(sessions.get(b.token)).toBeUndefined();
    expect(sessions.get(c.token)).toBeDefined();
  });
});
