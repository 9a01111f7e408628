// COSE_Sign1 (RFC 9052 §4.2) as a DCC carries it: tagged 18, untagged, or inside the
// CWT tag 61. Only the structure is read here; the signature is checked in signature.ts.
import { encode, Tag } from 'cbor2';
import { decodeStrict, plainBytes } from './cbor.js';
import { fail } from './failure.js';

export const COSE_SIGN1_TAG = 18;
export const CWT_TAG = 61;
const HEADER_ALG = 1;
const HEADER_KID = 4;

/** COSE algorithm ids the DCC allows (RFC 9053): ES256 and PS256. */
export const COSE_ALGS = { [-7]: 'ES256', [-37]: 'PS256' } as const;
export type CoseAlg = (typeof COSE_ALGS)[keyof typeof COSE_ALGS];

export interface CoseSign1 {
  /** The protected header exactly as received (signed over as-is). */
  protectedBytes: Uint8Array;
  alg: CoseAlg;
  kid: Uint8Array;
  payload: Uint8Array;
  signature: Uint8Array;
}

function tagNumber(t: Tag): number {
  return Number(t.tag);
}

function unwrapTags(item: unknown): unknown {
  let value = item;
  if (value instanceof Tag && tagNumber(value) === CWT_TAG) value = value.contents;
  if (value instanceof Tag && tagNumber(value) === COSE_SIGN1_TAG) value = value.contents;
  if (value instanceof Tag) fail('DCC_COSE_MALFORMED', `cose: unexpected CBOR tag ${String(value.tag)} (expected 61 CWT, 18 COSE_Sign1, or none)`);
  return value;
}

function headerMap(bytes: Uint8Array): Map<unknown, unknown> {
  if (bytes.length === 0) return new Map();
  let decoded: unknown;
  try {
    decoded = decodeStrict(bytes);
  } catch {
    fail('DCC_COSE_MALFORMED', 'cose: the protected header is not one well-formed CBOR map');
  }
  if (!(decoded instanceof Map)) fail('DCC_COSE_MALFORMED', 'cose: the protected header is not a CBOR map');
  return decoded;
}

function readAlg(prot: Map<unknown, unknown>, unprot: Map<unknown, unknown>): CoseAlg {
  // RFC 9052 wants alg protected; accept the unprotected one too (it is bound to the key type anyway).
  const alg = prot.has(HEADER_ALG) ? prot.get(HEADER_ALG) : unprot.get(HEADER_ALG);
  if (alg === undefined) fail('DCC_ALG_UNSUPPORTED', 'cose: no alg (label 1) in the headers');
  if (alg !== -7 && alg !== -37) fail('DCC_ALG_UNSUPPORTED', `cose: alg ${typeof alg === 'number' ? alg : typeof alg} is not supported (expected -7 ES256 or -37 PS256)`);
  return COSE_ALGS[alg];
}

function readKid(prot: Map<unknown, unknown>, unprot: Map<unknown, unknown>): Uint8Array {
  // The protected kid wins; the unprotected one is only a fallback (DCC spec, legacy issuers).
  const kid = prot.has(HEADER_KID) ? prot.get(HEADER_KID) : unprot.get(HEADER_KID);
  if (kid === undefined) fail('DCC_KID_MISSING', 'cose: no kid (label 4) in the protected or unprotected header');
  if (!(kid instanceof Uint8Array) || kid.length === 0) fail('DCC_COSE_MALFORMED', 'cose: kid (label 4) is not a non-empty byte string');
  return kid;
}

/** Parses the decompressed bytes as a COSE_Sign1 message. */
export function parseCoseSign1(bytes: Uint8Array): CoseSign1 {
  let item: unknown;
  try {
    item = decodeStrict(bytes);
  } catch {
    fail('DCC_CBOR_INVALID', 'cbor: the decompressed data is not one well-formed CBOR item (or uses duplicate keys, indefinite lengths or trailing bytes)');
  }
  const msg = unwrapTags(item);
  if (!Array.isArray(msg) || msg.length !== 4) fail('DCC_COSE_MALFORMED', 'cose: expected COSE_Sign1, an array of 4 elements');
  const [protectedBytes, unprotected, payload, signature] = msg as unknown[];
  if (!(protectedBytes instanceof Uint8Array)) fail('DCC_COSE_MALFORMED', 'cose: element 0 (protected header) is not a byte string');
  if (!(unprotected instanceof Map)) fail('DCC_COSE_MALFORMED', 'cose: element 1 (unprotected header) is not a map');
  if (!(payload instanceof Uint8Array)) fail('DCC_COSE_MALFORMED', 'cose: element 2 (payload) is not a byte string');
  if (!(signature instanceof Uint8Array)) fail('DCC_COSE_MALFORMED', 'cose: element 3 (signature) is not a byte string');
  const prot = headerMap(protectedBytes);
  const unprot = unprotected as Map<unknown, unknown>;
  return { protectedBytes, alg: readAlg(prot, unprot), kid: readKid(prot, unprot), payload, signature };
}

/** Sig_structure = ["Signature1", body_protected, external_aad = h'', payload] (RFC 9052 §4.4). */
export function sigStructure(cose: Pick<CoseSign1, 'protectedBytes' | 'payload'>): Uint8Array {
  return encode(['Signature1', plainBytes(cose.protectedBytes), new Uint8Array(0), plainBytes(cose.payload)]);
}
