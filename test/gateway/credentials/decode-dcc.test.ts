// decodeCredential with HC1: payloads: the real verifier and the real mapping, no lane.
import { describe, expect, it } from 'vitest';
import { decodeCredential } from '../../../gateway/credentials/decode.js';
import { buildDccTrust, verifyDcc } from '../../../gateway/credentials/dcc/index.js';
import { issueDcc, makeDsc, sampleHcert, trustEntry } from '../../fixtures/dcc-issuer.js';

const NOW = Date.UTC(2024, 0, 10);
const DAY = 86_400_000;
const dsc = makeDsc({ alg: 'PS256', notBefore: NOW - 100 * DAY, notAfter: NOW + 100 * DAY });
const trust = buildDccTrust([trustEntry(dsc)]);
const dcc = (qr: string, at: number) => verifyDcc(qr, trust, at);
const h = sampleHcert('test') as { t: Record<string, unknown>[] };
const qr = issueDcc({ dsc, hcert: { ...h, t: [{ ...h.t[0], sc: new Date(NOW - DAY / 2).toISOString() }] }, iat: NOW - DAY / 2, exp: NOW + DAY, iss: 'AT' });

describe('decodeCredential: HC1:', () => {
  it('gives a dcc credential for a certificate signed by a trusted DSC, with a scanner line ending', async () => {
    const c = await decodeCredential(Buffer.from(`${qr}\r\n`), new Map(), NOW, { dcc });
    expect(c).toMatchObject({ ok: true, kind: 'dcc', issuer: 'AT', issuedAt: Math.floor((NOW - DAY / 2) / 1000) * 1000, subject: { category: 'visitor', id: 'dcc:MUSTERFRAU<<ERIKA/1964-08-12' } });
  });

  it('is DCC_UNKNOWN_SIGNER when no DCC verifier is configured', async () => {
    expect(await decodeCredential(qr, new Map(), NOW)).toMatchObject({ ok: false, kind: 'dcc', code: 'DCC_UNKNOWN_SIGNER' });
  });

  it('is DCC_EXPIRED after the CWT expiry', async () => {
    expect(await decodeCredential(qr, new Map(), NOW + 2 * DAY, { dcc })).toMatchObject({ ok: false, code: 'DCC_EXPIRED' });
  });

  it('is DCC_INVALID for junk after the prefix, and never quotes it', async () => {
    const c = await decodeCredential('HC1:NOT*BASE45~', new Map(), NOW, { dcc });
    expect(c).toMatchObject({ ok: false, kind: 'dcc', code: 'DCC_INVALID' });
    expect(!c.ok && c.detail).not.toContain('NOT*BASE45');
  });

  it('still reads a lower-case "hc1:" as an unknown code (the prefix is upper case)', async () => {
    expect(await decodeCredential(qr.replace('HC1:', 'hc1:'), new Map(), NOW, { dcc })).toMatchObject({ ok: false, code: 'CREDENTIAL_UNKNOWN' });
  });
});
