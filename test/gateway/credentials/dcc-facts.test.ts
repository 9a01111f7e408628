// The mapping of a verified EU DCC to what the policy judges: pure, so tested on hand-built
// verifier results (the verifier itself is tested beside it).
import { describe, expect, it } from 'vitest';
import { dccCredential, dccDisplayName, dccFailureCode, dccSubjectId } from '../../../gateway/credentials/dcc-facts.js';
import { DCC_STAGES, type DccValid, type Hcert } from '../../../gateway/credentials/dcc/types.js';

const nam = { fn: 'Musterfrau-Gößinger', fnt: 'MUSTERFRAU<GOESSINGER', gn: 'Gabriele', gnt: 'GABRIELE' };
const test = { tg: '840539006', tt: 'LP6464-4', sc: '2024-01-09T04:00:00Z', tr: '260415000', co: 'AT', is: 'Ministry', ci: 'URN:UVCI:01:AT:TEST1#X' };
const vaccination = { tg: '840539006', vp: 'J07BX03', mp: 'EU/1/20/1528', ma: 'ORG-100030215', dn: 2, sd: 2, dt: '2023-10-01', co: 'AT', is: 'Ministry', ci: 'URN:UVCI:01:AT:VAC1#Y' };
const recovery = { tg: '840539006', fr: '2023-12-01', co: 'AT', is: 'Ministry', df: '2023-12-12', du: '2024-05-30', ci: 'URN:UVCI:01:AT:REC1#Z' };

function valid(type: DccValid['type'], hcert: Partial<Hcert>): DccValid {
  return {
    valid: true,
    stage: null,
    code: 'DCC_VALID',
    kid: 'AAECAwQFBgc=',
    type,
    issuer: 'AT',
    issuedAt: Date.UTC(2024, 0, 9),
    expiresAt: Date.UTC(2024, 0, 12),
    hcert: { ver: '1.3.0', nam, dob: '1998-02-26', ...hcert },
  };
}

describe('dccCredential: a verified certificate', () => {
  it('maps a negative NAAT test to a visitor with a negative test sampled at sc', () => {
    const c = dccCredential(valid('test', { t: [test] }));
    expect(c).toEqual({
      ok: true,
      kind: 'dcc',
      issuer: 'AT',
      issuedAt: Date.UTC(2024, 0, 9),
      expiresAt: Date.UTC(2024, 0, 12),
      subject: {
        id: 'dcc:MUSTERFRAU<GOESSINGER<<GABRIELE/1998-02-26',
        name: 'Musterfrau-Gößinger Gabriele',
        category: 'visitor',
        health: { source: 'dcc', dcc: { type: 'test', testType: 'naat' }, test: { result: 'negative', sampledAt: '2024-01-09T04:00:00Z' } },
      },
    });
  });

  it('reads "detected" (260373001) as a positive result', () => {
    const c = dccCredential(valid('test', { t: [{ ...test, tr: '260373001' }] }));
    expect(c.ok && c.kind === 'dcc' && c.subject.health.test).toEqual({ result: 'positive', sampledAt: test.sc });
  });

  it.each([
    ['LP217198-3', 'rat'],
    ['LP6464-4', 'naat'],
    ['94309-2', 'other'],
  ] as const)('tells the test type %s apart as %s', (tt, testType) => {
    const c = dccCredential(valid('test', { t: [{ ...test, tt }] }));
    expect(c.ok && c.kind === 'dcc' && c.subject.health).toMatchObject({ dcc: { type: 'test', testType } });
  });

  it('maps a vaccination to its dose, series and date, with no test', () => {
    const c = dccCredential(valid('vaccination', { v: [vaccination] }));
    expect(c.ok && c.kind === 'dcc' && c.subject.health).toEqual({ source: 'dcc', dcc: { type: 'vaccination', dose: 2, series: 2, date: '2023-10-01' } });
  });

  it('maps a recovery to its validity dates, with no test', () => {
    const c = dccCredential(valid('recovery', { r: [recovery] }));
    expect(c.ok && c.kind === 'dcc' && c.subject.health).toEqual({ source: 'dcc', dcc: { type: 'recovery', validFrom: '2023-12-12', validUntil: '2024-05-30' } });
  });

  it('gives two certificates of one person (other UVCI, other type) the same subject id', () => {
    const a = dccCredential(valid('test', { t: [test] }));
    const b = dccCredential(valid('vaccination', { v: [{ ...vaccination, ci: 'URN:UVCI:01:AT:OTHER#Q' }], nam: { ...nam, fn: 'Musterfrau' } }));
    expect(a.ok && b.ok && a.kind === 'dcc' && b.kind === 'dcc' && a.subject.id === b.subject.id).toBe(true);
  });

  it('gives another date of birth or another given name another id', () => {
    const base = dccSubjectId(nam, '1998-02-26');
    expect(dccSubjectId(nam, '1998-02-27')).not.toBe(base);
    expect(dccSubjectId({ ...nam, gnt: 'GABRIELA' }, '1998-02-26')).not.toBe(base);
    expect(base).not.toContain('UVCI');
  });

  it('ignores case and outer spaces of the standardised names', () => {
    expect(dccSubjectId({ fnt: ' musterfrau ', gnt: 'gabriele' }, '1998-02-26')).toBe(dccSubjectId({ fnt: 'MUSTERFRAU', gnt: 'GABRIELE' }, '1998-02-26'));
  });

  it('shows the standardised name when the printed one is missing, "<" as a space', () => {
    expect(dccDisplayName({ fnt: 'VAN<DER<BERG', gnt: 'ANNA<MARIA' })).toBe('VAN DER BERG ANNA MARIA');
    expect(dccDisplayName({ fnt: 'SOLO' })).toBe('SOLO');
  });

  it('falls back to the signer kid as issuer when the CWT names no country', () => {
    const c = dccCredential({ ...valid('test', { t: [test] }), issuer: null });
    expect(c.ok && c.kind === 'dcc' && c.issuer).toBe('AAECAwQFBgc=');
  });
});

describe('dccCredential: what it cannot read is DCC_INVALID, never a guess', () => {
  it.each([
    ['an unknown test result', valid('test', { t: [{ ...test, tr: '1234' }] }), /test result/],
    ['another disease', valid('test', { t: [{ ...test, tg: '12345' }] }), /not COVID-19/],
    ['no entry of its type', valid('vaccination', { t: [test] }), /no vaccination entry/],
    ['two entries', valid('recovery', { r: [recovery, recovery] }), /exactly one/],
    ['no standardised family name', valid('test', { t: [test], nam: { fnt: ' ' } }), /nam\.fnt/],
  ])('%s', (_name, result, detail) => {
    const c = dccCredential(result);
    expect(c).toMatchObject({ ok: false, kind: 'dcc', code: 'DCC_INVALID' });
    expect(!c.ok && c.detail).toMatch(detail);
  });

  it('never quotes the name, date of birth or UVCI in a failure', () => {
    const c = dccCredential(valid('test', { t: [{ ...test, tr: 'x' }] }));
    expect(JSON.stringify(c)).not.toMatch(/MUSTERFRAU|Gabriele|1998|UVCI/i);
  });
});

describe('dccCredential: a certificate that failed verification', () => {
  it('names an unknown signer with its own code', () => {
    const c = dccCredential({ valid: false, stage: 'trust', code: 'DCC_KID_UNKNOWN', message: 'kid not in the trust list', kid: 'AAECAwQFBgc=', type: 'test' });
    expect(c).toEqual({ ok: false, kind: 'dcc', code: 'DCC_UNKNOWN_SIGNER', detail: 'EU DCC failed at stage trust (DCC_KID_UNKNOWN): kid not in the trust list' });
  });

  it('maps every stage to a code: trust, signature, time apart; the rest is DCC_INVALID', () => {
    const codes = Object.fromEntries(DCC_STAGES.map((s) => [s, dccFailureCode(s)]));
    expect(codes).toEqual({
      prefix: 'DCC_INVALID',
      base45: 'DCC_INVALID',
      decompress: 'DCC_INVALID',
      cose: 'DCC_INVALID',
      cbor: 'DCC_INVALID',
      signature: 'DCC_SIGNATURE_INVALID',
      trust: 'DCC_UNKNOWN_SIGNER',
      keyusage: 'DCC_SIGNATURE_INVALID',
      expired: 'DCC_EXPIRED',
      'not-yet-valid': 'DCC_NOT_YET_VALID',
      schema: 'DCC_INVALID',
    });
  });
});
