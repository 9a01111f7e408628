// DSC certificates as files hold them (DER, PEM, with the key as PEM), for the trust folder
// and dcc-trust update tests; made with the DCC test issuer (test/fixtures/dcc-issuer.ts).
import { makeDsc } from '../../fixtures/dcc-issuer.js';

export interface MadeCert {
  der: Buffer;
  pem: string;
  keyPem: string;
  /** base64 of the first 8 bytes of SHA-256 of the DER. */
  kid: string;
}

const YEAR = 365 * 86_400_000;

export function makeCert(cn: string): MadeCert {
  const dsc = makeDsc({ alg: 'ES256', notBefore: Date.UTC(2024, 0, 1) - YEAR, notAfter: Date.UTC(2024, 0, 1) + YEAR, name: cn });
  const der = Buffer.from(dsc.der);
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return {
    der,
    pem: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`,
    keyPem: dsc.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    kid: dsc.kid,
  };
}

/** The entry of a certificate as the dcc-trust update and the trust folder give it. */
export const trustEntry = (c: MadeCert) => ({ kid: c.kid, certificate: c.der.toString('base64') });
