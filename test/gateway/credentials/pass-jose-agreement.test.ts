// verifyPass checks Ed25519 signatures with node:crypto directly (synchronous) instead of
// jose's compactVerify (WebCrypto, a thread-pool job per pass). These tests hold the two
// to the same answer: whenever verifyPass gets as far as the signature, it calls it
// invalid exactly when jose refuses the token, for good passes and for every way of
// altering one.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import fc from 'fast-check';
import { compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateIssuerKeys, verifyPass } from '../../../gateway/credentials/index.js';
import type { ParsedCredential, TrustList } from '../../../gateway/credentials/index.js';
import { b64json, goodClaims, goodPass, KID, NOW, segments, signRaw, testIssuer } from './fixtures.js';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** jose's verdict on the signature alone, with the trust list's own key. */
async function joseAccepts(token: string, trust: TrustList): Promise<boolean> {
  const key = trust.get(KID)?.key;
  if (key === undefined) throw new Error('test issuer not trusted');
  try {
    await compactVerify(token, key, { algorithms: ['EdDSA'] });
    return true;
  } catch {
    return false;
  }
}

/** True when verifyPass decided the signature (it did not stop at the token's shape or key). */
function reachedSignature(r: ParsedCredential): boolean {
  return r.ok || (r.code !== 'PASS_MALFORMED' && r.code !== 'PASS_UNKNOWN_KEY');
}

async function expectAgreement(token: string): Promise<void> {
  const { trust } = await testIssuer();
  const ours = await verifyPass(token, trust, NOW);
  if (!reachedSignature(ours)) return;
  const signatureGood = ours.ok || ours.code !== 'PASS_SIGNATURE_INVALID';
  expect({ token, signatureGood }).toEqual({ token, signatureGood: await joseAccepts(token, trust) });
}

function replaceAt(text: string, at: number, ch: string): string {
  return text.slice(0, at) + ch + text.slice(at + 1);
}

describe('verifyPass and jose agree on the signature', () => {
  it('accepts what jose accepts: good passes with any claims the issuer signs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }), async (sub, name) => {
        const token = await goodPass({ sub, name });
        const { trust } = await testIssuer();
        expect(await joseAccepts(token, trust)).toBe(true);
        expect((await verifyPass(token, trust, NOW)).ok).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses what jose refuses when one character of any segment changes', async () => {
    const token = await goodPass();
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.constantFrom(...B64URL.split('')), async (pos, ch) => {
        await expectAgreement(replaceAt(token, pos % token.length, token[pos % token.length] === '.' ? '.' : ch));
      }),
      { numRuns: 400 },
    );
  });

  it('agrees on signatures cut short, lengthened, or taken from another pass', async () => {
    const token = await goodPass();
    const other = await goodPass({ sub: 'someone-else' });
    const [h, p, s] = segments(token);
    const [, , otherSig] = segments(other);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: s.length + 8 }), fc.string({ unit: fc.constantFrom(...B64URL.split('')), maxLength: 8 }), async (cut, extra) => {
        await expectAgreement(`${h}.${p}.${s.slice(0, cut)}${extra}`);
      }),
      { numRuns: 200 },
    );
    await expectAgreement(`${h}.${p}.${otherSig}`);
    await expectAgreement(`${h}.${p}.${'A'.repeat(86)}`);
  });

  it('agrees on signatures whose unused last bits are set (both decoders ignore them)', async () => {
    const token = await goodPass();
    const [h, p, s] = segments(token);
    // 64 bytes take 86 characters; the last one carries 2 bits of the signature and 4 unused.
    const last = B64URL.indexOf(s.at(-1) ?? 'A');
    for (let low = 0; low < 16; low++) await expectAgreement(`${h}.${p}.${s.slice(0, -1)}${B64URL[(last & 0b110000) | low]}`);
    const { trust } = await testIssuer();
    expect((await verifyPass(`${h}.${p}.${s.slice(0, -1)}${B64URL[(last & 0b110000) | 0b1111]}`, trust, NOW)).ok).toBe(true);
  });

  it('agrees on a non-canonical signature (S + L, the group order added)', async () => {
    const token = await goodPass();
    const [h, p, s] = segments(token);
    const sig = Buffer.from(s, 'base64url');
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let S = 0n;
    for (let i = 31; i >= 0; i--) S = (S << 8n) + BigInt(sig[32 + i] ?? 0);
    let T = S + L;
    const big = Buffer.from(sig);
    for (let i = 0; i < 32; i++) {
      big[32 + i] = Number(T & 0xffn);
      T >>= 8n;
    }
    await expectAgreement(`${h}.${p}.${big.toString('base64url')}`);
    const { trust } = await testIssuer();
    expect(await verifyPass(`${h}.${p}.${big.toString('base64url')}`, trust, NOW)).toMatchObject({ ok: false, code: 'PASS_SIGNATURE_INVALID' });
  });

  it('agrees when the header or payload is swapped for another signed by the same key', async () => {
    const { privateJwk } = await testIssuer();
    const a = segments(await signRaw(goodClaims(), privateJwk));
    const b = segments(await signRaw(goodClaims({ name: '王五' }), privateJwk, { extra: 1 }));
    await expectAgreement(`${b[0]}.${a[1]}.${a[2]}`);
    await expectAgreement(`${a[0]}.${b[1]}.${a[2]}`);
    await expectAgreement(`${a[0]}.${b64json({ ...goodClaims(), healthCode: 'green' })}.${a[2]}`);
  });

  it('refuses, as jose does, a pass signed by another Ed25519 key under the trusted kid', async () => {
    const stranger = await generateIssuerKeys(KID);
    const token = await signRaw(goodClaims(), stranger.privateJwk);
    await expectAgreement(token);
    const { trust } = await testIssuer();
    expect(await verifyPass(token, trust, NOW)).toMatchObject({ ok: false, code: 'PASS_SIGNATURE_INVALID' });
  });

  it('verifies with a trust list holding a node:crypto KeyObject as with the imported CryptoKey', async () => {
    const { publicJwk, privateJwk, trust } = await testIssuer();
    const keyObject = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
    const asKeyObject: TrustList = new Map([[KID, { kid: KID, key: keyObject, issuer: KID }]]);
    const good = await signRaw(goodClaims(), privateJwk);
    const [h, p, s] = segments(good);
    const bad = `${h}.${p}.${replaceAt(s, 3, s[3] === 'A' ? 'B' : 'A')}`;
    for (const token of [good, bad]) expect(await verifyPass(token, asKeyObject, NOW)).toEqual(await verifyPass(token, trust, NOW));
  });

  it('still refuses, through jose, a trusted key that is not Ed25519', async () => {
    const { privateJwk } = await testIssuer();
    const hmac = await importJWK({ kty: 'oct', k: Buffer.alloc(32, 7).toString('base64url') }, 'HS256');
    const odd: TrustList = new Map([[KID, { kid: KID, key: hmac as never, issuer: KID }]]);
    const result = await verifyPass(await signRaw(goodClaims(), privateJwk), odd, NOW);
    expect(result).toMatchObject({ ok: false, code: 'PASS_MALFORMED' });
  });
});
