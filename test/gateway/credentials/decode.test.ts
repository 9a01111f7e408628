import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCredential, MAX_PAYLOAD_BYTES } from '../../../gateway/credentials/index.js';
import type { ParsedCredential } from '../../../gateway/credentials/index.js';
import { b64json, goodClaims, goodPass, KID, NOW, segments, testIssuer } from './fixtures.js';

async function decode(payload: Buffer | string): Promise<ParsedCredential> {
  return decodeCredential(payload, (await testIssuer()).trust, NOW);
}

describe('decodeCredential: dispatch', () => {
  it('verifies a health pass given as text or as scanner bytes', async () => {
    const token = await goodPass();
    expect(await decode(token)).toMatchObject({ ok: true, kind: 'health-pass', subject: { id: 'p-000123' } });
    expect(await decode(Buffer.from(token))).toMatchObject({ ok: true, kind: 'health-pass' });
  });

  it('has an Ed25519 pass decided by the time it returns: the promise is settled, nothing waits for another task', async () => {
    const token = await goodPass();
    const { trust } = await testIssuer();
    for (const payload of [Buffer.from(token), `${token}\r\n`, 'CPB1:M-0042', 'no credential']) {
      const answer = decodeCredential(payload, trust, NOW);
      // A settled promise's reaction runs before one queued after it; a pending one's cannot.
      const first = await Promise.race([answer.then(() => 'decided'), Promise.resolve().then(() => 'still waiting')]);
      expect(first).toBe('decided');
    }
  });

  it('strips the scanner line ending (CR LF, LF, CR) after a pass', async () => {
    const token = await goodPass();
    for (const ending of ['\r\n', '\n', '\r', '\r\n\r\n']) {
      expect(await decode(Buffer.from(token + ending))).toMatchObject({ ok: true, kind: 'health-pass' });
    }
  });

  it('reads a staff badge, with or without a trailing CR LF', async () => {
    expect(await decode('CPB1:M-0042')).toEqual({ ok: true, kind: 'staff-badge', staffId: 'M-0042' });
    expect(await decode(Buffer.from('CPB1:M-0042\r\n'))).toEqual({ ok: true, kind: 'staff-badge', staffId: 'M-0042' });
  });

  it('reports a badge with a bad staff id as BADGE_MALFORMED', async () => {
    expect(await decode('CPB1:m 42\r\n')).toMatchObject({ ok: false, kind: 'staff-badge', code: 'BADGE_MALFORMED' });
  });

  it('reports anything shaped like a compact JWS as a health pass, even when it is not one', async () => {
    expect(await decode('1.2.3')).toMatchObject({ ok: false, kind: 'health-pass', code: 'PASS_MALFORMED' });
    const unsigned = `${b64json({ alg: 'none', kid: KID })}.${b64json(goodClaims())}.`;
    expect(await decode(unsigned)).toMatchObject({ ok: false, kind: 'health-pass', code: 'PASS_MALFORMED' });
  });

  it('passes failures of the pass verifier through (e.g. PASS_SIGNATURE_INVALID for a tampered pass)', async () => {
    const [h, , s] = segments(await goodPass());
    const result = await decode(`${h}.${b64json(goodClaims({ name: 'X' }))}.${s}\r\n`);
    expect(result).toMatchObject({ ok: false, kind: 'health-pass', code: 'PASS_SIGNATURE_INVALID' });
  });

  it.each([
    ['a URL', 'https://example.com/pass?id=1'],
    ['an ID card number', '610102199001011234'],
    ['a lower-case badge prefix', 'cpb1:M-0042'],
    ['a badge with leading whitespace', ' CPB1:M-0042'],
    ['a JWS with spaces around the dots', 'eyJh . eyJz . c2ln'],
  ])('refuses %s as CREDENTIAL_UNKNOWN', async (_what, text) => {
    expect(await decode(text)).toMatchObject({ ok: false, kind: 'unknown', code: 'CREDENTIAL_UNKNOWN' });
  });

  it('does not quote an unknown payload in the detail (it may be personal data)', async () => {
    const result = await decode('610102199001011234');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.detail).not.toContain('6101');
  });

  it('refuses an empty payload, or one that is only a line ending, as CREDENTIAL_UNKNOWN', async () => {
    expect(await decode('')).toMatchObject({ code: 'CREDENTIAL_UNKNOWN', detail: 'payload is empty' });
    expect(await decode(Buffer.from('\r\n'))).toMatchObject({ code: 'CREDENTIAL_UNKNOWN', detail: 'payload is empty' });
  });
});

describe('decodeCredential: bytes that are not text', () => {
  it.each([
    ['a lone continuation byte', [0x43, 0x50, 0x80]],
    ['0xFF', [0xff, 0xfe, 0x41]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['a truncated three-byte sequence', [0x43, 0xe4, 0xb8]],
    ['an encoded UTF-16 surrogate', [0xed, 0xa0, 0x80]],
  ])('refuses %s as CREDENTIAL_NOT_TEXT', async (_what, bytes) => {
    expect(await decode(Buffer.from(bytes))).toMatchObject({ ok: false, kind: 'unknown', code: 'CREDENTIAL_NOT_TEXT' });
  });

  it('refuses a string holding a lone surrogate as CREDENTIAL_NOT_TEXT', async () => {
    expect(await decode('CPB1:A\uD800')).toMatchObject({ ok: false, kind: 'unknown', code: 'CREDENTIAL_NOT_TEXT' });
  });

  it('reads multi-byte UTF-8 text as text', async () => {
    expect(await decode(Buffer.from('健康码'))).toMatchObject({ ok: false, kind: 'unknown', code: 'CREDENTIAL_UNKNOWN' });
  });
});

describe(`decodeCredential: size cap of ${MAX_PAYLOAD_BYTES} bytes`, () => {
  it('looks at a payload of exactly the cap and refuses one byte more as CREDENTIAL_UNKNOWN', async () => {
    const atCap = `CPB1:${'A'.repeat(MAX_PAYLOAD_BYTES - 5)}`;
    expect(await decode(atCap)).toMatchObject({ code: 'BADGE_MALFORMED' });
    expect(await decode(`${atCap}A`)).toMatchObject({ ok: false, kind: 'unknown', code: 'CREDENTIAL_UNKNOWN' });
    expect(await decode(Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0xff))).toMatchObject({ code: 'CREDENTIAL_UNKNOWN' });
  });

  it('counts the cap in UTF-8 bytes, not characters', async () => {
    const text = '码'.repeat(Math.floor(MAX_PAYLOAD_BYTES / 3) + 1); // 3 bytes each
    expect(await decode(text)).toMatchObject({ code: 'CREDENTIAL_UNKNOWN', detail: expect.stringMatching(/more than the 4096/) });
  });
});

describe('decodeCredential: properties', () => {
  const base64urlChars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''));
  const segment = fc.string({ unit: base64urlChars, maxLength: 120 });
  const anyPayload = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 300 }),
    fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
    fc.tuple(segment, segment, segment).map(([a, b, c]) => `${a}.${b}.${c}`),
    fc.tuple(segment, segment, segment).map(([a, b, c]) => `eyJ${a}.eyJ${b}.${c}\r\n`),
    fc.string({ maxLength: 40 }).map((s) => `CPB1:${s}`),
    fc.uint8Array({ minLength: 4000, maxLength: 4200 }).map((b) => Buffer.from(b)),
  );

  it('never throws and never yields a verified pass for arbitrary strings and bytes', async () => {
    const { trust } = await testIssuer();
    await fc.assert(
      fc.asyncProperty(anyPayload, async (payload) => {
        const result = await decodeCredential(payload, trust, NOW);
        if (result.ok) expect(result.kind).toBe('staff-badge');
        else expect(typeof result.detail).toBe('string');
      }),
      { numRuns: 400 },
    );
  });

  it('never accepts a pass with any character of its header or payload changed', async () => {
    const token = await goodPass();
    const signedPartLength = token.lastIndexOf('.');
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: signedPartLength - 1 }), base64urlChars, async (at, ch) => {
        fc.pre(token[at] !== ch && token[at] !== '.');
        const mutated = token.slice(0, at) + ch + token.slice(at + 1);
        expect((await decode(mutated)).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
