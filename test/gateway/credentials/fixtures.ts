// Shared test material: issuer keys, good claims, and a raw signer that signs anything
// (including claims and headers the real issuer refuses) so every failure can be produced.
import { CompactSign, importJWK } from 'jose';
import type { JWK } from 'jose';
import { generateIssuerKeys, issuePass, trustListFromJwks } from '../../../gateway/credentials/index.js';
import type { IssuerKeys, PassClaimsInput, TrustList } from '../../../gateway/credentials/index.js';

/** 2024-01-10T00:00:00Z, the fixed "now" of these tests. */
export const NOW = Date.UTC(2024, 0, 10, 0, 0, 0);
export const NOW_S = NOW / 1000;
export const KID = 'test-issuer-1';

export function goodClaims(overrides: Partial<PassClaimsInput> = {}): PassClaimsInput {
  return {
    sub: 'p-000123',
    name: '李娜 Li Na',
    category: 'employee',
    healthCode: 'green',
    travel: { riskLevel: 'none', visits: [{ region: '榆林 Yulin', from: '2024-01-02', to: '2024-01-04' }], asOf: '2024-01-09T08:00:00+08:00' },
    test: { result: 'negative', sampledAt: '2024-01-09T01:00:00Z' },
    iat: NOW_S - 3600,
    exp: NOW_S + 3600,
    ...overrides,
  };
}

export interface Issuer extends IssuerKeys {
  trust: TrustList;
}

let cached: Promise<Issuer> | undefined;
/** One key pair per test file (key generation is the slow part), trusted under KID. */
export function testIssuer(): Promise<Issuer> {
  cached ??= (async () => {
    const keys = await generateIssuerKeys(KID);
    return { ...keys, trust: await trustListFromJwks([keys.publicJwk]) };
  })();
  return cached;
}

export async function goodPass(overrides: Partial<PassClaimsInput> = {}): Promise<string> {
  const { privateJwk } = await testIssuer();
  return issuePass(goodClaims(overrides), privateJwk);
}

export const b64url = (value: string | Uint8Array) => Buffer.from(value).toString('base64url');
export const b64json = (value: unknown) => b64url(JSON.stringify(value));

/** Signs any payload with an Ed25519 private JWK under any protected header (alg forced to EdDSA). */
export async function signRaw(payload: unknown, privateJwk: JWK, header: Record<string, unknown> = {}): Promise<string> {
  const key = await importJWK(privateJwk, 'EdDSA');
  const bytes = new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new CompactSign(bytes).setProtectedHeader({ kid: privateJwk.kid, typ: 'JWT', ...header, alg: 'EdDSA' }).sign(key);
}

/** The three segments of a compact JWS. */
export function segments(token: string): [string, string, string] {
  const [h, p, s] = token.split('.');
  if (h === undefined || p === undefined || s === undefined) throw new Error('not a compact JWS');
  return [h, p, s];
}
