import { readFile } from 'node:fs/promises';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  CredentialError,
  DEFAULT_PASS_TTL_SECONDS,
  generateIssuerKeys,
  issuePass,
  parsePassClaimsInput,
  verifyPass,
} from '../../../gateway/credentials/index.js';
import { goodClaims, KID, NOW, NOW_S, testIssuer } from './fixtures.js';

describe('generateIssuerKeys', () => {
  it('makes an Ed25519 pair labelled with kid, alg EdDSA and use sig; only the private half has d', async () => {
    const { privateJwk, publicJwk } = await generateIssuerKeys('office-2024');
    expect(publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: 'office-2024', alg: 'EdDSA', use: 'sig' });
    expect(privateJwk).toMatchObject({ ...publicJwk, d: expect.any(String) });
    expect('d' in publicJwk).toBe(false);
  });

  it('makes a new key every time', async () => {
    const [a, b] = await Promise.all([generateIssuerKeys('k'), generateIssuerKeys('k')]);
    expect(a.publicJwk.x).not.toBe(b.publicJwk.x);
  });

  it.each(['', '../etc', 'has space', '-lead'])('refuses the kid %j with ISSUER_KEY_INVALID', async (kid) => {
    await expect(generateIssuerKeys(kid)).rejects.toMatchObject({ name: 'CredentialError', code: 'ISSUER_KEY_INVALID' });
  });
});

describe('issuePass', () => {
  it('signs with the protected header {alg: EdDSA, kid, typ: JWT}', async () => {
    const { privateJwk } = await testIssuer();
    const token = await issuePass(goodClaims(), privateJwk);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: KID, typ: 'JWT' });
  });

  it('sets iat from opts.now (whole seconds) and exp 24 h later when the claims carry neither', async () => {
    const { privateJwk, trust } = await testIssuer();
    const { iat: _i, exp: _e, ...claims } = goodClaims();
    const token = await issuePass(claims, privateJwk, { now: NOW + 999 });
    expect(decodeJwt(token)).toMatchObject({ iat: NOW_S, exp: NOW_S + DEFAULT_PASS_TTL_SECONDS });
    expect(await verifyPass(token, trust, NOW)).toMatchObject({ ok: true, expiresAt: NOW + 86_400_000 });
  });

  it('keeps iat and exp given in the claims, and applies ttlSeconds otherwise', async () => {
    const { privateJwk } = await testIssuer();
    expect(decodeJwt(await issuePass(goodClaims({ iat: 100, exp: 200 }), privateJwk))).toMatchObject({ iat: 100, exp: 200 });
    const { exp: _e, ...claims } = goodClaims({ iat: 100 });
    expect(decodeJwt(await issuePass(claims, privateJwk, { ttlSeconds: 60 }))).toMatchObject({ iat: 100, exp: 160 });
  });

  it('refuses claims the verifier would refuse, with CLAIMS_INVALID naming each claim', async () => {
    const { privateJwk } = await testIssuer();
    const bad = { ...goodClaims(), healthCode: 'blue', travel: { riskLevel: 'none', visits: [], asOf: 'yesterday' } };
    const error: unknown = await issuePass(bad, privateJwk).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toMatchObject({ code: 'CLAIMS_INVALID' });
    expect(String((error as Error).message)).toMatch(/^\[CLAIMS_INVALID\] claim healthCode: expected one of green\|yellow\|red; claim travel\.asOf: /);
  });

  it('refuses to guess the time: no iat and no opts.now is CLAIMS_INVALID', async () => {
    const { privateJwk } = await testIssuer();
    const { iat: _i, ...claims } = goodClaims();
    await expect(issuePass(claims, privateJwk)).rejects.toMatchObject({ code: 'CLAIMS_INVALID', detail: expect.stringMatching(/^claim iat: missing/) });
  });

  it('refuses a public key, or a key of another type, with ISSUER_KEY_INVALID', async () => {
    const { publicJwk } = await testIssuer();
    await expect(issuePass(goodClaims(), publicJwk)).rejects.toMatchObject({ code: 'ISSUER_KEY_INVALID' });
    await expect(issuePass(goodClaims(), { kty: 'oct', k: 'c2VjcmV0', kid: 'x' })).rejects.toMatchObject({ code: 'ISSUER_KEY_INVALID' });
    const { kid: _k, ...noKid } = (await testIssuer()).privateJwk;
    await expect(issuePass(goodClaims(), noKid)).rejects.toMatchObject({ code: 'ISSUER_KEY_INVALID' });
  });
});

describe('parsePassClaimsInput', () => {
  it('accepts the demo claims file config/demo/pass-claims.json, and a pass issued from it verifies', async () => {
    const file = new URL('../../../config/demo/pass-claims.json', import.meta.url);
    const claims = parsePassClaimsInput(JSON.parse(await readFile(file, 'utf8')));
    expect(claims).toMatchObject({ category: 'employee', healthCode: 'green', test: { result: 'negative' } });
    const { privateJwk, trust } = await testIssuer();
    expect(await verifyPass(await issuePass(claims, privateJwk, { now: NOW }), trust, NOW)).toMatchObject({ ok: true });
  });

  it('throws CLAIMS_INVALID naming the path for bad input', () => {
    expect(() => parsePassClaimsInput({ ...goodClaims(), category: 'boss' })).toThrow(/^\[CLAIMS_INVALID\] claim category: expected one of/);
    expect(() => parsePassClaimsInput('not an object')).toThrow(/claim \(the claims object\)/);
  });
});
