// Base45 (RFC 9285), strict: only the 45-character alphabet, no length ≡ 1 (mod 3), and
// no group whose value exceeds what its bytes can hold (a triplet > 65535, a pair > 255).
import { fail } from './failure.js';

export const BASE45_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE45_ALPHABET.length; i++) VALUE[BASE45_ALPHABET.charCodeAt(i)] = i;

function digit(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const v = c < 128 ? (VALUE[c] ?? -1) : -1;
  if (v < 0) fail('DCC_BASE45_INVALID', `base45: character at position ${i} is outside the base45 alphabet`);
  return v;
}

export function decodeBase45(text: string): Uint8Array {
  if (text.length % 3 === 1) fail('DCC_BASE45_INVALID', `base45: length ${text.length} leaves a single trailing character (expected groups of 3, last group of 2 or 3)`);
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 === 2 ? 1 : 0));
  let o = 0;
  for (let i = 0; i < text.length; i += 3) {
    if (i + 2 < text.length) {
      const n = digit(text, i) + digit(text, i + 1) * 45 + digit(text, i + 2) * 2025;
      if (n > 0xffff) fail('DCC_BASE45_INVALID', `base45: group at position ${i} has value ${n} > 65535`);
      out[o++] = n >> 8;
      out[o++] = n & 0xff;
    } else {
      const n = digit(text, i) + digit(text, i + 1) * 45;
      if (n > 0xff) fail('DCC_BASE45_INVALID', `base45: final pair at position ${i} has value ${n} > 255`);
      out[o++] = n;
    }
  }
  return out;
}
