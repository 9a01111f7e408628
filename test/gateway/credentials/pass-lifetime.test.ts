// Issue 10, defect 10: a genuine pass has an upper bound on its lifetime. The span is
// exp − iat as signed; the limit is credentials.maxPassLifetimeHours (default 168 h).
import { describe, expect, it } from 'vitest';
import {
  decodeCredential,
  DEFAULT_MAX_PASS_LIFETIME_HOURS,
  issueVehiclePass,
  verifyPass,
  type ParsedCredential,
} from '../../../gateway/credentials/index.js';
import { decide } from '../../../gateway/policy/decide.js';
import { reason } from '../../../gateway/policy/reasons.js';
import { input } from '../policy/fixtures.js';
import { goodPass, NOW, NOW_S, testIssuer } from './fixtures.js';

const HOUR_S = 3600;

function code(result: ParsedCredential): string | null {
  return result.ok ? null : result.code;
}

describe('verifyPass: maximum pass lifetime', () => {
  it('has a default limit of 168 h (7 days)', () => {
    expect(DEFAULT_MAX_PASS_LIFETIME_HOURS).toBe(168);
  });

  it('refuses a genuine pass valid until 2100 with PASS_LIFETIME_TOO_LONG, naming the span and the limit', async () => {
    const token = await goodPass({ iat: NOW_S - HOUR_S, exp: Date.UTC(2100, 0, 1) / 1000 });
    const result = await verifyPass(token, (await testIssuer()).trust, NOW);
    expect(result).toMatchObject({ ok: false, kind: 'health-pass', code: 'PASS_LIFETIME_TOO_LONG' });
    expect(result.ok ? '' : result.detail).toMatch(/valid for \d+ h .*at most 168 h/);
  });

  it('accepts a pass valid for exactly 168 h and refuses one valid for 168 h and 1 s', async () => {
    const trust = (await testIssuer()).trust;
    const iat = NOW_S - HOUR_S;
    expect(code(await verifyPass(await goodPass({ iat, exp: iat + 168 * HOUR_S }), trust, NOW))).toBeNull();
    expect(code(await verifyPass(await goodPass({ iat, exp: iat + 168 * HOUR_S + 1 }), trust, NOW))).toBe('PASS_LIFETIME_TOO_LONG');
  });

  it('applies the limit it is given, and reads time only from `now`', async () => {
    const trust = (await testIssuer()).trust;
    const token = await goodPass({ iat: NOW_S - HOUR_S, exp: NOW_S + 47 * HOUR_S }); // 48 h
    expect(code(await verifyPass(token, trust, NOW, { maxLifetimeHours: 24 }))).toBe('PASS_LIFETIME_TOO_LONG');
    expect(code(await verifyPass(token, trust, NOW, { maxLifetimeHours: 48 }))).toBeNull();
    // Same token, same answer at the same injected `now`, whatever the wall clock says.
    expect(code(await verifyPass(token, trust, NOW + 1000, { maxLifetimeHours: 48 }))).toBeNull();
  });

  it('says expired rather than too long for an expired pass', async () => {
    const token = await goodPass({ iat: NOW_S - 400 * HOUR_S, exp: NOW_S - HOUR_S });
    expect(code(await verifyPass(token, (await testIssuer()).trust, NOW))).toBe('PASS_EXPIRED');
  });

  it('holds vehicle passes to the same limit', async () => {
    const { trust, privateJwk } = await testIssuer();
    const token = await issueVehiclePass({ plate: '晋A12345', goods: 'food', driver: 'p-000123', iat: NOW_S - HOUR_S, exp: NOW_S + 400 * HOUR_S }, privateJwk);
    expect(code(await verifyPass(token, trust, NOW))).toBe('PASS_LIFETIME_TOO_LONG');
  });

  it('passes the limit through decodeCredential', async () => {
    const token = await goodPass({ iat: NOW_S - HOUR_S, exp: NOW_S + 47 * HOUR_S });
    expect(code(await decodeCredential(token, (await testIssuer()).trust, NOW, { maxLifetimeHours: 24 }))).toBe('PASS_LIFETIME_TOO_LONG');
  });
});

describe('policy: a pass valid for too long', () => {
  it('is refused with zh-CN and English text and a next step', () => {
    const v = decide(input({ credential: { ok: false, kind: 'health-pass', code: 'PASS_LIFETIME_TOO_LONG', detail: 'x' } }));
    expect(v).toMatchObject({ outcome: 'refuse', reasons: [{ code: 'PASS_LIFETIME_TOO_LONG' }] });
    const r = reason('PASS_LIFETIME_TOO_LONG');
    expect(r.zh).toBe('通行码有效期超出规定');
    expect(r.en).toBe('Pass validity period is too long');
    expect(r.next).toEqual({ zh: '请重新申领通行码', en: 'Please get a new pass' });
  });
});
