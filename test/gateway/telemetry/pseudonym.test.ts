import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTelemetryError } from '../../../gateway/telemetry/errors.js';
import { isPseudonym, pseudonym, pseudonymizer } from '../../../gateway/telemetry/pseudonym.js';

const SITE_A = Buffer.from('5f1c2a9e7b3d4c60a1e2f3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8', 'hex');
const SITE_B = Buffer.from('a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f', 'hex');
const ID_NUMBER = '110101199003071234';

describe('pseudonym', () => {
  it('gives the same pseudonym for the same subject and secret every time', () => {
    expect(pseudonym(SITE_A, ID_NUMBER)).toBe(pseudonym(SITE_A, ID_NUMBER));
    expect(pseudonym(Buffer.from(SITE_A), ID_NUMBER)).toBe(pseudonym(SITE_A, ID_NUMBER));
  });

  it('gives different pseudonyms for the same subject under two site secrets', () => {
    expect(pseudonym(SITE_A, ID_NUMBER)).not.toBe(pseudonym(SITE_B, ID_NUMBER));
  });

  it('gives different pseudonyms to different subjects under one secret', () => {
    expect(pseudonym(SITE_A, ID_NUMBER)).not.toBe(pseudonym(SITE_A, '110101199003071235'));
  });

  it('is p1_ followed by 22 base64url characters and contains no part of the raw id', () => {
    const p = pseudonym(SITE_A, ID_NUMBER);
    expect(p).toMatch(/^p1_[A-Za-z0-9_-]{22}$/);
    expect(isPseudonym(p)).toBe(true);
    // No run of 4+ digits of the id may survive into the pseudonym.
    for (let i = 0; i + 4 <= ID_NUMBER.length; i++) expect(p).not.toContain(ID_NUMBER.slice(i, i + 4));
  });

  it('is the truncated base64url HMAC-SHA256 of the UTF-8 subject id', () => {
    const expected = createHmac('sha256', SITE_A).update('张三-007', 'utf8').digest('base64url').slice(0, 22);
    expect(pseudonym(SITE_A, '张三-007')).toBe(`p1_${expected}`);
  });

  it('refuses a secret shorter than 16 bytes with TELEMETRY_SECRET_INVALID', () => {
    let caught: unknown;
    try {
      pseudonym(Buffer.from('short'), ID_NUMBER);
    } catch (err) {
      caught = err;
    }
    expect(isTelemetryError(caught, 'TELEMETRY_SECRET_INVALID')).toBe(true);
    expect(() => pseudonymizer(Buffer.alloc(15))).toThrow(/TELEMETRY_SECRET_INVALID/);
  });

  it('pseudonymizer gives exactly the HMAC pseudonym for any key length and any subject id, lone surrogates and long ids included', () => {
    const id = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', minLength: 500, maxLength: 700 }), fc.constantFrom('a\ud800b', '\udc00', '张三-007'));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 200 }), fc.array(id, { minLength: 1, maxLength: 5 }), (bytes, ids) => {
        const key = Buffer.from(bytes);
        const p = pseudonymizer(key);
        for (const subject of ids) {
          expect(p(subject)).toBe(`p1_${createHmac('sha256', key).update(subject, 'utf8').digest('base64url').slice(0, 22)}`);
          expect(p(subject)).toBe(pseudonym(key, subject));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('pseudonymizer keeps its own copy of the key', () => {
    const secret = Buffer.from(SITE_A);
    const p = pseudonymizer(secret);
    const before = p(ID_NUMBER);
    secret.fill(0);
    expect(p(ID_NUMBER)).toBe(before);
    expect(before).toBe(pseudonym(SITE_A, ID_NUMBER));
  });
});
