// Vehicle passes: a second signed JWS from the same issuers, told apart by its `typ`
// (vehicle-pass+jwt). Every way one can be wrong ends as a failure with a PASS_* code and
// a detail saying it was a vehicle pass; a health pass is never read as one, nor the reverse.
import { describe, expect, it } from 'vitest';
import {
  CredentialError,
  VEHICLE_PASS_TYP,
  decodeCredential,
  generateIssuerKeys,
  issueVehiclePass,
  resolveCredential,
  verifyPass,
} from '../../../gateway/credentials/index.js';
import { KID, NOW, NOW_S, b64json, goodClaims, segments, signRaw, testIssuer } from './fixtures.js';

const VTYP = { typ: VEHICLE_PASS_TYP };
const vehicleClaims = (over: Record<string, unknown> = {}) => ({ plate: '晋A12345', goods: 'food', driver: 'p-000123', iat: NOW_S - 3600, exp: NOW_S + 3600, ...over });

describe('vehicle passes', () => {
  it('verifies an issued vehicle pass to its plate, goods and driver reference', async () => {
    const { privateJwk, trust } = await testIssuer();
    const token = await issueVehiclePass(vehicleClaims(), privateJwk);
    expect(JSON.parse(Buffer.from(segments(token)[0], 'base64url').toString())).toMatchObject({ typ: 'vehicle-pass+jwt', alg: 'EdDSA' });
    const parsed = await decodeCredential(token, trust, NOW);
    expect(parsed).toEqual({
      ok: true,
      kind: 'vehicle-pass',
      vehicle: { plate: '晋A12345', goods: 'food', driver: 'p-000123' },
      issuer: expect.any(String),
      issuedAt: (NOW_S - 3600) * 1000,
      expiresAt: (NOW_S + 3600) * 1000,
    });
  });

  it('fills iat from now and exp from the default lifetime when the claims leave them out', async () => {
    const { privateJwk, trust } = await testIssuer();
    const token = await issueVehiclePass({ plate: '晋A1', goods: 'medicine', driver: 'd' }, privateJwk, { now: NOW });
    const parsed = await verifyPass(token, trust, NOW);
    expect(parsed.ok && parsed.kind === 'vehicle-pass' && parsed.expiresAt - parsed.issuedAt).toBe(24 * 3_600_000);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no plate', { plate: undefined }, /claim plate/],
    ['an empty plate', { plate: '' }, /claim plate/],
    ['a plate too long to be one', { plate: 'X'.repeat(17) }, /claim plate/],
    ['goods that are not a category id', { goods: 'Food & Drink' }, /claim goods/],
    ['no driver reference', { driver: undefined }, /claim driver/],
    ['exp before iat', { exp: NOW_S - 7200 }, /expected exp later than iat/],
  ])('refuses a vehicle pass with %s as PASS_CLAIMS_INVALID', async (_label, over, detail) => {
    const { privateJwk, trust } = await testIssuer();
    const token = await signRaw(vehicleClaims(over), privateJwk, VTYP);
    const parsed = await verifyPass(token, trust, NOW);
    expect(parsed).toMatchObject({ ok: false, kind: 'health-pass', code: 'PASS_CLAIMS_INVALID' });
    expect(!parsed.ok && parsed.detail).toMatch(/^vehicle pass /);
    expect(!parsed.ok && parsed.detail).toMatch(detail);
  });

  it('refuses an expired vehicle pass as PASS_EXPIRED', async () => {
    const { privateJwk, trust } = await testIssuer();
    const parsed = await verifyPass(await signRaw(vehicleClaims({ iat: NOW_S - 7200, exp: NOW_S }), privateJwk, VTYP), trust, NOW);
    expect(parsed).toMatchObject({ ok: false, code: 'PASS_EXPIRED', detail: expect.stringMatching(/^vehicle pass expired/) });
  });

  it('refuses a vehicle pass issued beyond the clock tolerance as PASS_NOT_YET_VALID', async () => {
    const { privateJwk, trust } = await testIssuer();
    const parsed = await verifyPass(await signRaw(vehicleClaims({ iat: NOW_S + 3600, exp: NOW_S + 7200 }), privateJwk, VTYP), trust, NOW);
    expect(parsed).toMatchObject({ ok: false, code: 'PASS_NOT_YET_VALID', detail: expect.stringMatching(/^vehicle pass /) });
  });

  it('refuses a vehicle pass signed by a key not in the trust list as PASS_UNKNOWN_KEY', async () => {
    const { trust } = await testIssuer();
    const other = await generateIssuerKeys('someone-else');
    const parsed = await verifyPass(await issueVehiclePass(vehicleClaims(), other.privateJwk), trust, NOW);
    expect(parsed).toMatchObject({ ok: false, code: 'PASS_UNKNOWN_KEY', detail: expect.stringMatching(/^vehicle pass /) });
  });

  it('refuses a vehicle pass whose plate was altered after signing as PASS_SIGNATURE_INVALID', async () => {
    const { privateJwk, trust } = await testIssuer();
    const [h, , s] = segments(await issueVehiclePass(vehicleClaims(), privateJwk));
    const forged = `${h}.${b64json(vehicleClaims({ plate: '晋A99999' }))}.${s}`;
    const parsed = await verifyPass(forged, trust, NOW);
    expect(parsed).toMatchObject({ ok: false, code: 'PASS_SIGNATURE_INVALID', detail: expect.stringMatching(/^vehicle pass /) });
  });

  it('refuses a vehicle pass whose header demands an extension as PASS_MALFORMED', async () => {
    const { privateJwk, trust } = await testIssuer();
    const [, p, sig] = segments(await issueVehiclePass(vehicleClaims(), privateJwk));
    const header = b64json({ alg: 'EdDSA', kid: KID, ...VTYP, crit: ['x'], x: 1 });
    const parsed = await verifyPass(`${header}.${p}.${sig}`, trust, NOW);
    expect(parsed).toMatchObject({ ok: false, code: 'PASS_MALFORMED', detail: expect.stringMatching(/^vehicle pass .*crit/) });
  });

  it('refuses a vehicle pass whose payload is not a JSON object as PASS_MALFORMED', async () => {
    const { privateJwk, trust } = await testIssuer();
    const parsed = await verifyPass(await signRaw('[1,2]', privateJwk, VTYP), trust, NOW);
    expect(parsed).toMatchObject({ ok: false, code: 'PASS_MALFORMED', detail: expect.stringMatching(/^vehicle pass payload/) });
  });

  it('never reads health-pass claims signed as a vehicle pass as a person', async () => {
    const { privateJwk, trust } = await testIssuer();
    const parsed = await verifyPass(await signRaw(goodClaims(), privateJwk, VTYP), trust, NOW);
    expect(parsed).toMatchObject({ ok: false, code: 'PASS_CLAIMS_INVALID' });
  });

  it('never reads vehicle claims signed as a health pass as a vehicle', async () => {
    const { privateJwk, trust } = await testIssuer();
    const parsed = await verifyPass(await signRaw(vehicleClaims(), privateJwk), trust, NOW);
    expect(parsed).toMatchObject({ ok: false, kind: 'health-pass', code: 'PASS_CLAIMS_INVALID' });
    expect(!parsed.ok && parsed.detail).not.toMatch(/^vehicle pass/);
  });

  it('still refuses any other typ as PASS_MALFORMED', async () => {
    const { privateJwk, trust } = await testIssuer();
    const parsed = await verifyPass(await signRaw(vehicleClaims(), privateJwk, { typ: 'vehicle+jwt' }), trust, NOW);
    expect(parsed).toMatchObject({ ok: false, code: 'PASS_MALFORMED' });
  });

  it("does not resolve a vehicle pass to a person: it is not a person's pass", async () => {
    const { privateJwk, trust } = await testIssuer();
    const parsed = await verifyPass(await issueVehiclePass(vehicleClaims(), privateJwk), trust, NOW);
    expect(resolveCredential(parsed, () => undefined)).toMatchObject({ ok: false, code: 'PASS_CLAIMS_INVALID' });
  });

  it('will not issue a vehicle pass with bad claims, naming each claim', async () => {
    const { privateJwk } = await testIssuer();
    const err = await issueVehiclePass({ plate: '', goods: 'Toys!', driver: 'd' }, privateJwk, { now: NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect(err).toMatchObject({ code: 'CLAIMS_INVALID' });
    expect((err as Error).message).toMatch(/claim plate[\s\S]*claim goods/);
  });
});
