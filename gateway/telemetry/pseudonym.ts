// Keyed pseudonyms for subjects. The central office can tell that two passages at
// checkpoints of the same site were the same person (same key, same pseudonym) but
// cannot recover who it is: without the site secret the hash cannot be reversed or
// brute-forced over the (small) space of ID numbers, which a plain hash could be.
import * as nodeCrypto from 'node:crypto';
import { createHmac } from 'node:crypto';
import { TelemetryError } from './errors.js';

/** Bumped if the derivation ever changes, so old and new pseudonyms never collide. */
export const PSEUDONYM_PREFIX = 'p1_';
/** 22 base64url characters = 132 bits: collisions are out of reach for any site. */
const DIGEST_CHARS = 22;
/** A shorter key would be the weak point of the scheme (the config asks for 32). */
export const MIN_SECRET_BYTES = 16;

const PSEUDONYM_RE = /^p1_[A-Za-z0-9_-]{22}$/;

/** HMAC-SHA256(secret, subjectId), base64url, truncated, version-prefixed. Pure. */
export function pseudonym(secret: Buffer, subjectId: string): string {
  assertSecret(secret);
  return derive(secret, subjectId);
}

/** The derivation itself, for a secret already checked. */
function derive(secret: Buffer, subjectId: string): string {
  return PSEUDONYM_PREFIX + createHmac('sha256', secret).update(subjectId, 'utf8').digest('base64url').slice(0, DIGEST_CHARS);
}

/** Checks the secret once (at start-up) and returns the per-passage function. */
export function pseudonymizer(secret: Buffer): (subjectId: string) => string {
  assertSecret(secret);
  // A private copy: a caller reusing its buffer cannot change the key under us.
  const key = Buffer.from(secret);
  // The key was checked above: no second check per passage.
  return oneShot === undefined ? (subjectId) => derive(key, subjectId) : padDeriver(key, oneShot);
}

/** One-shot crypto.hash (Node ≥ 20.12); without it, createHmac. */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: NodeJS.ArrayBufferView, encoding: string) => Buffer | string }).hash;
type OneShot = NonNullable<typeof oneShot>;

/** Subject ids up to this many UTF-16 units are hashed from the deriver's own buffer; longer ones take createHmac. */
const PAD_DERIVER_CHARS = 512;

/**
 * derive(key, ·) as HMAC-SHA256 written out (RFC 2104: H(K ⊕ opad ‖ H(K ⊕ ipad ‖ m))) with
 * the padded keys made once and two one-shot hashes per subject: createHmac makes a
 * native Hmac object per call, which cost a decision about 10 µs in the lane (a first
 * passage of the day). A test holds the two equal.
 */
function padDeriver(key: Buffer, hash: OneShot): (subjectId: string) => string {
  const BLOCK = 64;
  const k = key.length > BLOCK ? (hash('sha256', key, 'buffer') as Buffer) : key;
  // K ⊕ ipad, then the subject id's UTF-8; K ⊕ opad, then the inner hash.
  const inner = Buffer.alloc(BLOCK + 3 * PAD_DERIVER_CHARS);
  const outer = Buffer.alloc(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = (k[i] ?? 0) ^ 0x36;
    outer[i] = (k[i] ?? 0) ^ 0x5c;
  }
  return (subjectId) => {
    if (subjectId.length > PAD_DERIVER_CHARS) return derive(key, subjectId);
    const n = inner.write(subjectId, BLOCK, 'utf8');
    // The inner hash as a latin1 string (one char a byte) written into the outer block: a
    // Buffer out of crypto.hash is a native allocation of its own, about twice the cost.
    outer.write(hash('sha256', inner.subarray(0, BLOCK + n), 'latin1') as string, BLOCK, 'latin1');
    return PSEUDONYM_PREFIX + (hash('sha256', outer, 'base64url') as string).slice(0, DIGEST_CHARS);
  };
}

/** The secret file's text (hex, at least 32 bytes, surrounding space ignored) as bytes; null when it is not that. */
export function secretFromHex(text: string): Buffer | null {
  const t = text.trim();
  return /^([0-9a-fA-F]{2}){32,}$/.test(t) ? Buffer.from(t, 'hex') : null;
}

/** True for strings shaped like a pseudonym of this version (not a proof of origin). */
export function isPseudonym(value: string): boolean {
  return PSEUDONYM_RE.test(value);
}

function assertSecret(secret: Buffer): void {
  if (!Buffer.isBuffer(secret) || secret.length < MIN_SECRET_BYTES) {
    const got = Buffer.isBuffer(secret) ? `${secret.length} bytes` : typeof secret;
    throw new TelemetryError(
      'TELEMETRY_SECRET_INVALID',
      `pseudonym secret: expected at least ${MIN_SECRET_BYTES} bytes, got ${got}`,
    );
  }
}
