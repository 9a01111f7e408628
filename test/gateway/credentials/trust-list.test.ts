import { describe, expect, it } from 'vitest';
import { generateKeyPair, exportJWK } from 'jose';
import type { JWK } from 'jose';
import { generateIssuerKeys, trustListFromJwks } from '../../../gateway/credentials/index.js';

describe('trustListFromJwks', () => {
  it('indexes Ed25519 public keys by kid, labelled by their issuer member or else their kid', async () => {
    const a = await generateIssuerKeys('a');
    const b = await generateIssuerKeys('b');
    const list = await trustListFromJwks([{ ...a.publicJwk, issuer: 'Office A' }, b.publicJwk]);
    expect([...list.keys()]).toEqual(['a', 'b']);
    expect(list.get('a')).toMatchObject({ kid: 'a', issuer: 'Office A' });
    expect(list.get('b')).toMatchObject({ kid: 'b', issuer: 'b' });
  });

  it('builds an empty list from no keys', async () => {
    expect((await trustListFromJwks([])).size).toBe(0);
  });

  it('refuses a private key with TRUST_KEY_PRIVATE', async () => {
    const { privateJwk } = await generateIssuerKeys('leaked');
    await expect(trustListFromJwks([privateJwk])).rejects.toMatchObject({ code: 'TRUST_KEY_PRIVATE', source: 'jwks[0]' });
  });

  it('refuses two keys with one kid with TRUST_KEY_DUPLICATE', async () => {
    const a = await generateIssuerKeys('same');
    const b = await generateIssuerKeys('same');
    await expect(trustListFromJwks([a.publicJwk, b.publicJwk])).rejects.toMatchObject({ code: 'TRUST_KEY_DUPLICATE', source: 'jwks[1]' });
  });

  it('refuses a P-256 key, naming what was expected', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'ec' };
    await expect(trustListFromJwks([jwk])).rejects.toThrow('[TRUST_KEY_INVALID] jwks[0]: expected "kty": "OKP", got "EC"');
  });

  it.each([
    ['no kid', { kid: undefined }, /"kid"/],
    ['an X25519 curve', { crv: 'X25519' }, /"crv": "Ed25519"/],
    ['a short x', { x: 'abc' }, /"x": 32 bytes/],
    ['alg RS256', { alg: 'RS256' }, /"alg" absent or "EdDSA"/],
    ['use enc', { use: 'enc' }, /"use" absent or "sig"/],
  ])('refuses a key with %s as TRUST_KEY_INVALID', async (_what, change, message) => {
    const { publicJwk } = await generateIssuerKeys('k');
    await expect(trustListFromJwks([{ ...publicJwk, ...change }])).rejects.toMatchObject({ code: 'TRUST_KEY_INVALID', message });
  });
});
