import { CompactSign } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  CLOCK_TOLERANCE_MS,
  CredentialError,
  generateIssuerKeys,
  MAX_PASS_CHARS,
  trustListFromJwks,
  verifyPass,
} from '../../../gateway/credentials/index.js';
import type { ParsedCredential } from '../../../gateway/credentials/index.js';
import { b64json, b64url, goodClaims, goodPass, KID, NOW, NOW_S, segments, signRaw, testIssuer } from './fixtures.js';

async function verify(token: string, now = NOW): Promise<ParsedCredential> {
  return verifyPass(token, (await testIssuer()).trust, now);
}

function expectFailure(result: ParsedCredential, code: string): string {
  expect(result).toMatchObject({ ok: false, kind: 'health-pass', code });
  return result.ok ? '' : result.detail;
}

describe('verifyPass: a good pass', () => {
  it('accepts a pass signed by a trusted key and returns the subject, issuer and times in ms', async () => {
    const result = await verify(await goodPass());
    expect(result).toEqual({
      ok: true,
      kind: 'health-pass',
      subject: {
        id: 'p-000123',
        name: '李娜 Li Na',
        category: 'employee',
        health: {
          healthCode: 'green',
          travel: { riskLevel: 'none', visits: [{ region: '榆林 Yulin', from: '2024-01-02', to: '2024-01-04' }], asOf: '2024-01-09T08:00:00+08:00' },
          test: { result: 'negative', sampledAt: '2024-01-09T01:00:00Z' },
        },
      },
      issuer: KID,
      issuedAt: (NOW_S - 3600) * 1000,
      expiresAt: (NOW_S + 3600) * 1000,
    });
  });

  it('accepts a pass without travel or test records and leaves them out of the health facts', async () => {
    const result = await verify(await goodPass({ travel: undefined, test: undefined, healthCode: 'yellow' }));
    expect(result.ok).toBe(true);
    if (result.ok && result.kind === 'health-pass') {
      expect(result.subject.health).toEqual({ healthCode: 'yellow' });
      expect('travel' in result.subject.health).toBe(false);
    }
  });

  it('drops claims it does not know instead of refusing the pass', async () => {
    const { privateJwk } = await testIssuer();
    const result = await verify(await signRaw({ ...goodClaims(), jti: 'x-1', iss: 'somewhere' }, privateJwk));
    expect(result.ok).toBe(true);
  });

  it('reports the issuer label of the trust-list entry that verified it', async () => {
    const keys = await generateIssuerKeys('labelled');
    const list = await trustListFromJwks([{ ...keys.publicJwk, issuer: '陕西省疾控 Shaanxi CDC' }]);
    const result = await verifyPass(await signRaw(goodClaims(), keys.privateJwk), list, NOW);
    expect(result).toMatchObject({ ok: true, issuer: '陕西省疾控 Shaanxi CDC' });
  });
});

describe('verifyPass: PASS_MALFORMED', () => {
  it('refuses a token that is not three dot-separated segments', async () => {
    expect(expectFailure(await verify('abc.def'), 'PASS_MALFORMED')).toMatch(/compact JWS/);
    expectFailure(await verify('a.b.c.d'), 'PASS_MALFORMED');
    expectFailure(await verify(''), 'PASS_MALFORMED');
  });

  it('refuses a segment that is not base64url', async () => {
    const [h, p, s] = segments(await goodPass());
    expect(expectFailure(await verify(`${h}.${p}+/.${s}`), 'PASS_MALFORMED')).toMatch(/payload segment is not base64url/);
    expect(expectFailure(await verify(`${h}A.${p}.${s}`), 'PASS_MALFORMED')).toMatch(/header/);
  });

  it('refuses a header that is not JSON', async () => {
    const [, p, s] = segments(await goodPass());
    expect(expectFailure(await verify(`${b64url('{"alg":"EdDSA",')}.${p}.${s}`), 'PASS_MALFORMED')).toBe('header is not JSON');
  });

  it('refuses a payload that is not a JSON object', async () => {
    const { privateJwk } = await testIssuer();
    expect(expectFailure(await verify(await signRaw('not json', privateJwk)), 'PASS_MALFORMED')).toBe('payload is not JSON');
    expect(expectFailure(await verify(await signRaw([1, 2], privateJwk)), 'PASS_MALFORMED')).toBe('payload is not a JSON object');
  });

  it('refuses a header without a kid', async () => {
    const { privateJwk } = await testIssuer();
    const token = await signRaw(goodClaims(), { ...privateJwk, kid: undefined });
    expect(expectFailure(await verify(token), 'PASS_MALFORMED')).toMatch(/no kid/);
  });

  it('refuses an unsigned token with alg none', async () => {
    const unsigned = `${b64json({ alg: 'none', kid: KID, typ: 'JWT' })}.${b64json(goodClaims())}.`;
    expect(expectFailure(await verify(unsigned), 'PASS_MALFORMED')).toMatch(/unsigned/);
    expect(expectFailure(await verify(`${unsigned}c2lnbmF0dXJl`), 'PASS_MALFORMED')).toMatch(/alg "none" is not accepted/);
  });

  it('refuses an HS256 token, even one whose secret is the public key (algorithm confusion)', async () => {
    const { publicJwk } = await testIssuer();
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(goodClaims())))
      .setProtectedHeader({ alg: 'HS256', kid: KID, typ: 'JWT' })
      .sign(secret);
    expect(expectFailure(await verify(token), 'PASS_MALFORMED')).toMatch(/alg "HS256" is not accepted; expected "EdDSA"/);
  });

  it('refuses a header with crit or a typ other than JWT', async () => {
    const { privateJwk } = await testIssuer();
    expect(expectFailure(await verify(await signRaw(goodClaims(), privateJwk, { crit: ['b64'], b64: true })), 'PASS_MALFORMED')).toMatch(/crit/);
    expect(expectFailure(await verify(await signRaw(goodClaims(), privateJwk, { typ: 'JOSE+JSON' })), 'PASS_MALFORMED')).toMatch(/typ/);
  });

  it(`refuses a token longer than ${MAX_PASS_CHARS} characters`, async () => {
    const { privateJwk } = await testIssuer();
    const token = await signRaw(goodClaims({ name: 'x'.repeat(4000) }), privateJwk);
    expect(expectFailure(await verify(token), 'PASS_MALFORMED')).toMatch(/more than the 4096/);
  });
});

describe('verifyPass: keys and signatures', () => {
  it('refuses a pass signed by a key that is not in the trust list', async () => {
    const stranger = await generateIssuerKeys('stranger');
    const detail = expectFailure(await verify(await signRaw(goodClaims(), stranger.privateJwk)), 'PASS_UNKNOWN_KEY');
    expect(detail).toBe('no trusted issuer key with kid "stranger"');
  });

  it('refuses a forged pass: signed by another key under the trusted kid', async () => {
    const forger = await generateIssuerKeys(KID);
    expectFailure(await verify(await signRaw(goodClaims(), forger.privateJwk)), 'PASS_SIGNATURE_INVALID');
  });

  it('refuses a pass whose payload was altered after signing', async () => {
    const [h, , s] = segments(await goodPass());
    const altered = b64json(goodClaims({ healthCode: 'green', name: 'Someone Else' }));
    expectFailure(await verify(`${h}.${altered}.${s}`), 'PASS_SIGNATURE_INVALID');
  });

  it('refuses a pass whose header was altered after signing', async () => {
    const [, p, s] = segments(await goodPass());
    expectFailure(await verify(`${b64json({ alg: 'EdDSA', kid: KID })}.${p}.${s}`), 'PASS_SIGNATURE_INVALID');
  });

  it('refuses a pass whose signature was altered or truncated', async () => {
    const [h, p, s] = segments(await goodPass());
    const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    expectFailure(await verify(`${h}.${p}.${flipped}`), 'PASS_SIGNATURE_INVALID');
    expectFailure(await verify(`${h}.${p}.${s.slice(0, 40)}`), 'PASS_SIGNATURE_INVALID');
  });

  it('checks the signature before the times: a forged expired pass is a forgery', async () => {
    const forger = await generateIssuerKeys(KID);
    const token = await signRaw(goodClaims({ iat: NOW_S - 7200, exp: NOW_S - 3600 }), forger.privateJwk);
    expectFailure(await verify(token), 'PASS_SIGNATURE_INVALID');
  });
});

describe('verifyPass: time', () => {
  it('accepts a pass 1 s before its exp and refuses it at exp (expired when now >= exp)', async () => {
    const token = await goodPass({ exp: NOW_S + 10 });
    expect((await verify(token, NOW + 9_000)).ok).toBe(true);
    expect((await verify(token, NOW + 9_999)).ok).toBe(true);
    expect(expectFailure(await verify(token, NOW + 10_000), 'PASS_EXPIRED')).toBe('expired at 2024-01-10T00:00:10.000Z');
    expectFailure(await verify(token, NOW + 86_400_000), 'PASS_EXPIRED');
  });

  it(`accepts a pass issued up to ${CLOCK_TOLERANCE_MS / 1000} s in the future (gate clock behind) and refuses one issued later`, async () => {
    expect((await verify(await goodPass({ iat: NOW_S + 60 }))).ok).toBe(true);
    const detail = expectFailure(await verify(await goodPass({ iat: NOW_S + 61 })), 'PASS_NOT_YET_VALID');
    expect(detail).toMatch(/iat 2024-01-10T00:01:01.000Z.*60 s clock tolerance/);
  });

  it('refuses a pass whose nbf is beyond the clock tolerance', async () => {
    const { privateJwk } = await testIssuer();
    expect((await verify(await signRaw({ ...goodClaims(), nbf: NOW_S + 60 }, privateJwk))).ok).toBe(true);
    expect(expectFailure(await verify(await signRaw({ ...goodClaims(), nbf: NOW_S + 3000 }, privateJwk)), 'PASS_NOT_YET_VALID')).toMatch(/nbf/);
  });

  it('says expired rather than claims-invalid for an expired pass in an outdated format', async () => {
    const { privateJwk } = await testIssuer();
    const token = await signRaw({ ...goodClaims({ iat: NOW_S - 7200, exp: NOW_S - 3600 }), category: 'miner' }, privateJwk);
    expectFailure(await verify(token), 'PASS_EXPIRED');
  });

  it('throws for a caller bug: now is not a finite number', async () => {
    const token = await goodPass();
    await expect(verify(token, Number.NaN)).rejects.toBeInstanceOf(CredentialError);
    await expect(verify(token, Number.NaN)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('verifyPass: PASS_CLAIMS_INVALID names the claim and what was expected', () => {
  async function claimsDetail(claims: Record<string, unknown>): Promise<string> {
    const { privateJwk } = await testIssuer();
    return expectFailure(await verify(await signRaw(claims, privateJwk)), 'PASS_CLAIMS_INVALID');
  }

  it('refuses an unknown category', async () => {
    expect(await claimsDetail({ ...goodClaims(), category: 'miner' })).toBe(
      'claim category: expected one of employee|family|contractor|visitor|vendor|driver',
    );
  });

  it('refuses an unknown health code', async () => {
    expect(await claimsDetail({ ...goodClaims(), healthCode: 'blue' })).toBe('claim healthCode: expected one of green|yellow|red');
  });

  it('refuses a visit date that is not YYYY-MM-DD, naming its place in the list', async () => {
    const claims = goodClaims();
    const travel = { ...claims.travel, visits: [{ region: 'A', from: '2024-01-01', to: '2024-01-02' }, { region: 'B', from: '1/3/2024', to: '2024-01-04' }] };
    expect(await claimsDetail({ ...claims, travel })).toBe('claim travel.visits[1].from: expected an ISO date YYYY-MM-DD');
  });

  it('refuses a visit that ends before it starts', async () => {
    const claims = goodClaims();
    const travel = { ...claims.travel, visits: [{ region: 'A', from: '2024-01-05', to: '2024-01-02' }] };
    expect(await claimsDetail({ ...claims, travel })).toBe('claim travel.visits[0].to: expected a date on or after `from`');
  });

  it('refuses a test timestamp without a time zone', async () => {
    expect(await claimsDetail({ ...goodClaims(), test: { result: 'negative', sampledAt: '2024-01-09T01:00:00' } })).toMatch(
      /^claim test\.sampledAt: expected an ISO timestamp with a zone/,
    );
  });

  it('refuses an empty subject id and a missing name, listing both', async () => {
    const { name: _omitted, ...claims } = goodClaims();
    const detail = await claimsDetail({ ...claims, sub: '' });
    expect(detail).toContain('claim sub: expected the subject id (a non-empty string)');
    expect(detail).toContain('claim name: expected the name (a non-empty string)');
  });

  it('refuses a pass without exp, or with exp not after iat', async () => {
    const { exp: _omitted, ...noExp } = goodClaims();
    expect(await claimsDetail(noExp)).toMatch(/^claim exp: expected a NumericDate/);
    expect(await claimsDetail({ ...goodClaims(), exp: NOW_S + 5, iat: NOW_S + 5 })).toBe('claim exp: expected exp later than iat');
    expect(await claimsDetail({ ...goodClaims(), iat: '2024-01-10' })).toMatch(/^claim iat: expected a NumericDate/);
  });
});
