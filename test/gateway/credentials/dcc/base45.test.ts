// Base45 (RFC 9285), strictly: the alphabet, the length and each group's value range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BASE45_ALPHABET, decodeBase45 } from '../../../../gateway/credentials/dcc/base45.js';
import { encodeBase45 } from '../../../fixtures/dcc-issuer.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
const failure = (s: string) => {
  try {
    decodeBase45(s);
  } catch (err) {
    return err as { code: string; stage: string; message: string };
  }
  throw new Error(`"${s}" decoded`);
};

describe('decodeBase45', () => {
  it.each([
    ['BB8', 'AB'],
    ['%69 VD92EX0', 'Hello!!'],
    ['UJCLQE7W581', 'base-45'],
    ['QED8WEX0', 'ietf!'],
    ['', ''],
  ])('decodes the RFC 9285 example "%s"', (encoded, plain) => {
    expect(text(decodeBase45(encoded))).toBe(plain);
  });

  it('decodes the largest triplet (FGW = 65535) and pair (U5 = 255)', () => {
    expect([...decodeBase45('FGW')]).toEqual([0xff, 0xff]);
    expect([...decodeBase45('U5')]).toEqual([0xff]);
  });

  it('refuses a triplet worth more than 65535, naming its position', () => {
    expect(failure('BB8GGW')).toMatchObject({ code: 'DCC_BASE45_INVALID', stage: 'base45', message: expect.stringContaining('position 3 has value 65536 > 65535') });
    expect(failure(':::').message).toContain('> 65535');
  });

  it('refuses a final pair worth more than 255', () => {
    expect(failure('BB8V5').message).toContain('final pair at position 3 has value 256 > 255');
  });

  it('refuses a single trailing character', () => {
    expect(failure('BB8A').message).toContain('length 4 leaves a single trailing character');
  });

  it.each([['lower case', 'bb8'], ['a character outside the alphabet', 'BB#'], ['non-ASCII', 'BBé'], ['a newline', 'BB8\n1']])('refuses %s', (_what, s) => {
    expect(failure(s).code).toBe('DCC_BASE45_INVALID');
  });

  it('round-trips any bytes through the test encoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const encoded = encodeBase45(bytes);
        expect(encoded.length).toBe(Math.floor(bytes.length / 2) * 3 + (bytes.length % 2) * 2);
        expect([...decodeBase45(encoded)]).toEqual([...bytes]);
      }),
    );
  });

  it('decodes a string of the alphabet exactly when every group is in range, and then re-encodes to it', () => {
    const alphabetChar = fc.constantFrom(...BASE45_ALPHABET.split(''));
    fc.assert(
      fc.property(fc.array(alphabetChar, { maxLength: 60 }).map((cs) => cs.join('')), (s) => {
        const value = (g: string) => [...g].reduce((n, c, i) => n + BASE45_ALPHABET.indexOf(c) * 45 ** i, 0);
        const groups = s.match(/.{1,3}/g) ?? [];
        const inRange = s.length % 3 !== 1 && groups.every((g) => value(g) <= (g.length === 3 ? 0xffff : 0xff));
        if (inRange) expect(encodeBase45(decodeBase45(s))).toBe(s);
        else expect(failure(s).code).toBe('DCC_BASE45_INVALID');
      }),
      { numRuns: 2000 },
    );
  });
});
