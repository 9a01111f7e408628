import { describe, expect, it } from 'vitest';
import { parseBadge, resolveCredential } from '../../../gateway/credentials/index.js';
import type { ParsedCredential, RosterFacts, RosterLookup } from '../../../gateway/credentials/index.js';

const WANG: RosterFacts = {
  name: '王强 Wang Qiang',
  category: 'employee',
  health: { healthCode: 'green', test: { result: 'negative', sampledAt: '2024-01-09T01:00:00Z' } },
  active: true,
};

const roster: RosterLookup = (staffId) =>
  ({ 'M-0042': WANG, 'M-0099': { ...WANG, name: 'Left the mine', active: false } })[staffId];

describe('parseBadge', () => {
  it('accepts CPB1:<staffId> and returns the staff id', () => {
    expect(parseBadge('CPB1:M-0042')).toEqual({ ok: true, kind: 'staff-badge', staffId: 'M-0042' });
    expect(parseBadge('CPB1:7')).toEqual({ ok: true, kind: 'staff-badge', staffId: '7' });
  });

  it('accepts a staff id of 32 characters and refuses one of 33', () => {
    expect(parseBadge(`CPB1:${'A'.repeat(32)}`).ok).toBe(true);
    expect(parseBadge(`CPB1:${'A'.repeat(33)}`)).toMatchObject({ ok: false, kind: 'staff-badge', code: 'BADGE_MALFORMED' });
  });

  it.each([
    ['an empty staff id', 'CPB1:'],
    ['lower-case letters', 'CPB1:m-0042'],
    ['a leading hyphen', 'CPB1:-0042'],
    ['a space', 'CPB1:M 0042'],
    ['trailing whitespace', 'CPB1:M-0042 '],
    ['another separator', 'CPB1:M_0042'],
  ])('refuses a badge with %s as BADGE_MALFORMED', (_what, text) => {
    const result = parseBadge(text);
    expect(result).toMatchObject({ ok: false, kind: 'staff-badge', code: 'BADGE_MALFORMED' });
    if (!result.ok) expect(result.detail).toMatch(/does not match/);
  });

  it('refuses text without the CPB1: prefix as BADGE_MALFORMED', () => {
    expect(parseBadge('CPB2:M-0042')).toMatchObject({ ok: false, code: 'BADGE_MALFORMED', detail: 'expected the prefix CPB1:' });
  });
});

describe('resolveCredential', () => {
  it('resolves an active badge to the roster subject under the staff id', () => {
    expect(resolveCredential({ ok: true, kind: 'staff-badge', staffId: 'M-0042' }, roster)).toEqual({
      ok: true,
      kind: 'staff-badge',
      subject: { id: 'M-0042', name: WANG.name, category: 'employee', health: WANG.health },
    });
  });

  it('refuses a badge not in the roster as BADGE_NOT_IN_ROSTER', () => {
    expect(resolveCredential({ ok: true, kind: 'staff-badge', staffId: 'M-7777' }, roster)).toEqual({
      ok: false,
      kind: 'staff-badge',
      code: 'BADGE_NOT_IN_ROSTER',
      detail: 'the staff id is not in the roster',
    });
  });

  it('refuses a withdrawn (inactive) badge as BADGE_NOT_IN_ROSTER without quoting the staff id', () => {
    const result = resolveCredential({ ok: true, kind: 'staff-badge', staffId: 'M-0099' }, roster);
    expect(result).toMatchObject({ ok: false, code: 'BADGE_NOT_IN_ROSTER' });
    if (!result.ok) expect(result.detail).not.toContain('M-0099');
  });

  it('takes the store roster entry as it is (extra fields ignored)', () => {
    const storeLike = { staffId: 'M-0042', updatedAt: 1, ...WANG };
    const result = resolveCredential({ ok: true, kind: 'staff-badge', staffId: 'M-0042' }, () => storeLike);
    expect(result).toMatchObject({ ok: true, subject: { id: 'M-0042', name: WANG.name } });
  });

  it('passes a verified pass through without asking the roster', () => {
    const subject = { id: 'p-1', name: 'N', category: 'visitor' as const, health: { healthCode: 'green' as const } };
    const parsed: ParsedCredential = { ok: true, kind: 'health-pass', subject, issuer: 'i', issuedAt: 0, expiresAt: 1 };
    const noRoster: RosterLookup = () => {
      throw new Error('roster must not be asked');
    };
    expect(resolveCredential(parsed, noRoster)).toEqual({ ok: true, kind: 'health-pass', subject });
  });

  it('passes failures through unchanged', () => {
    const failure: ParsedCredential = { ok: false, kind: 'unknown', code: 'CREDENTIAL_NOT_TEXT', detail: 'd' };
    expect(resolveCredential(failure, roster)).toEqual(failure);
  });
});
