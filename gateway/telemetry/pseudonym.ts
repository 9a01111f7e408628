// Keyed pseudonyms for subjects. The central office can tell that two passages at
// checkpoints of the same site were the same person (same key, same pseudonym) but
// cannot recover who it is: without the site secret the hash cannot be reversed or
// brute-forced over the (small) space of ID numbers, which a plain hash could be.
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
  return (subjectId) => derive(key, subjectId);
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
