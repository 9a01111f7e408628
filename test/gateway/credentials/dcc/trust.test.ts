// buildDccTrust parses each trusted DSC once and names the entry that is unusable.
import { describe, expect, it } from 'vitest';
import { buildDccTrust } from '../../../../gateway/credentials/dcc/index.js';
import { makeDsc, trustEntry } from '../../../fixtures/dcc-issuer.js';

const T0 = Date.parse('2025-03-01T00:00:00Z');
const dsc = makeDsc({ alg: 'ES256', eku: ['test'], legacyEku: true, notBefore: T0, notAfter: T0 + 86_400_000 });

describe('buildDccTrust', () => {
  it('indexes signers by the kid given, with validity and the DCC types of the EKU', () => {
    const trust = buildDccTrust([trustEntry(dsc)]);
    expect(trust.size).toBe(1);
    const [signer] = trust.byKid.get(dsc.kid) ?? [];
    expect(signer).toMatchObject({ kid: dsc.kid, keyKind: 'ec-p256', notBefore: T0, notAfter: T0 + 86_400_000 });
    expect([...(signer?.types ?? [])]).toEqual(['test']);
  });

  it('keeps a kid that is not the SHA-256 prefix of the certificate, and several certificates under one kid', () => {
    const other = makeDsc({ alg: 'PS256', notBefore: T0, notAfter: T0 + 1 });
    const trust = buildDccTrust([{ kid: 'AAAAAAAAAAA=', certificate: dsc.certificate }, { kid: 'AAAAAAAAAAA=', certificate: other.certificate }]);
    expect(trust.byKid.get('AAAAAAAAAAA=')?.map((s) => s.keyKind)).toEqual(['ec-p256', 'rsa']);
    expect(trust.byKid.get('AAAAAAAAAAA=')?.[1]?.types).toBeNull();
  });

  it('reads a kid written unpadded or URL-safe as the same kid', () => {
    const kidBytes = Buffer.from([0xfb, 0xff, 0x01, 2, 3, 4, 5, 6]);
    for (const kid of [kidBytes.toString('base64'), kidBytes.toString('base64url'), kidBytes.toString('base64').replace(/=+$/, '')]) {
      expect([...buildDccTrust([{ kid, certificate: dsc.certificate }]).byKid.keys()]).toEqual([kidBytes.toString('base64')]);
    }
  });

  it.each([
    ['a kid with a single trailing base64 character', { kid: 'AAAAA', certificate: dsc.certificate }, 'DCC trust entry 1: kid: expected non-empty base64'],
    ['a kid that is not base64', { kid: 'not base64!', certificate: dsc.certificate }, 'DCC trust entry 1: kid: expected non-empty base64'],
    ['an empty kid', { kid: '', certificate: dsc.certificate }, 'DCC trust entry 1: kid: expected non-empty base64'],
    ['a certificate that is not base64', { kid: dsc.kid, certificate: '%%%' }, 'DCC trust entry 1: certificate: expected non-empty base64'],
    ['bytes that are not a certificate', { kid: dsc.kid, certificate: Buffer.from('hello').toString('base64') }, 'DCC trust entry 1: certificate: not a DER X.509 certificate'],
    ['a missing certificate', { kid: dsc.kid }, 'DCC trust entry 1: certificate: expected non-empty base64'],
  ])('refuses %s with TRUST_KEY_INVALID naming the entry', (_what, entry, message) => {
    expect(() => buildDccTrust([trustEntry(dsc), entry as never])).toThrow(expect.objectContaining({ code: 'TRUST_KEY_INVALID', message: `[TRUST_KEY_INVALID] ${message}` }));
  });
});
