// The test issuer (test/fixtures/dcc-issuer.ts) produces what the verifier accepts, so the
// lane's tests can rely on it.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildDccTrust, verifyDcc } from '../../../../gateway/credentials/dcc/index.js';
import { issueDcc, makeDsc, sampleHcert, trustEntry } from '../../../fixtures/dcc-issuer.js';

const DAY = 86_400_000;
const T0 = Date.parse('2025-03-01T12:00:00Z');

describe('the DCC test issuer', () => {
  it.each(['ES256', 'PS256'] as const)('makes a %s DSC that X.509 parsers read, with the validity and EKU asked for', (alg) => {
    const dsc = makeDsc({ alg, eku: ['test', 'recovery'], notBefore: T0 - DAY, notAfter: T0 + 365 * DAY });
    const cert = new X509Certificate(dsc.der);
    expect(Date.parse(cert.validFrom)).toBe(T0 - DAY);
    expect(Date.parse(cert.validTo)).toBe(T0 + 365 * DAY);
    expect(cert.keyUsage).toEqual(['1.3.6.1.4.1.1847.2021.1.1', '1.3.6.1.4.1.1847.2021.1.3']);
    expect(cert.publicKey.asymmetricKeyType).toBe(alg === 'ES256' ? 'ec' : 'rsa');
    expect(cert.verify(cert.publicKey)).toBe(true);
  });

  it('writes the legacy EKU arc when asked, and no EKU extension without eku', () => {
    expect(new X509Certificate(makeDsc({ alg: 'ES256', eku: ['vaccination'], legacyEku: true, notBefore: T0, notAfter: T0 + DAY }).der).keyUsage).toEqual(['1.3.6.1.4.1.0.1847.2021.1.2']);
    expect(new X509Certificate(makeDsc({ alg: 'ES256', notBefore: T0, notAfter: T0 + DAY }).der).keyUsage).toBeUndefined();
  });

  it.each([
    ['ES256', 'protected', 18],
    ['ES256', 'unprotected', 61],
    ['PS256', 'both', 'none'],
  ] as const)('issues %s certificates (kid %s, tag %s) the verifier accepts', (alg, kidIn, tagged) => {
    const dsc = makeDsc({ alg, notBefore: T0 - DAY, notAfter: T0 + 365 * DAY });
    const qr = issueDcc({ dsc, hcert: sampleHcert('vaccination'), iat: T0, exp: T0 + 30 * DAY, iss: 'AT', kidIn, tagged });
    expect(qr.startsWith('HC1:')).toBe(true);
    const r = verifyDcc(qr, buildDccTrust([trustEntry(dsc)]), T0 + DAY);
    expect(r).toMatchObject({ valid: true, type: 'vaccination', kid: dsc.kid, issuer: 'AT', issuedAt: T0, expiresAt: T0 + 30 * DAY });
  });
});
