// The CWT claims (RFC 8392) a DCC carries: 1 iss, 4 exp, 6 iat, -260 hcert {1: payload}.
// The HCERT payload comes back as plain JSON values for the schema stage.
import { Tag } from 'cbor2';
import { decodeStrict } from './cbor.js';
import { fail } from './failure.js';

const CLAIM_ISS = 1;
const CLAIM_EXP = 4;
const CLAIM_IAT = 6;
const CLAIM_HCERT = -260;
const HCERT_EU_DCC = 1;

export interface CwtClaims {
  iss: string | null;
  /** Epoch seconds. */
  exp: number;
  iat: number;
  /** The HCERT payload as JSON values (maps with text keys → plain objects). */
  hcert: unknown;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Tags whose content is the JSON string the schema expects: RFC 8949 date-time text, RFC 8943 full-date text. */
const TEXT_DATE_TAGS = new Set([0, 1004]);

/**
 * CBOR → JSON for the HCERT: text-keyed maps, arrays, text, finite numbers, booleans,
 * null, and a tag 0 / 1004 around text (read as that text: the spec asks decoders to be
 * permissive about such conversions). Anything else (byte strings, other tags, non-text
 * keys) has no JSON form and fails.
 */
export function toJson(value: unknown, path: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('DCC_SCHEMA_INVALID', `schema: ${path} is not a finite number`);
    return value;
  }
  if (typeof value === 'bigint') fail('DCC_SCHEMA_INVALID', `schema: ${path} is an integer out of range`);
  if (value instanceof Tag && TEXT_DATE_TAGS.has(Number(value.tag)) && typeof value.contents === 'string') return value.contents;
  if (Array.isArray(value)) return value.map((v, i) => toJson(v, `${path}[${i}]`));
  if (value instanceof Map) {
    const out: { [key: string]: JsonValue } = Object.create(null) as { [key: string]: JsonValue };
    for (const [k, v] of value) {
      if (typeof k !== 'string') fail('DCC_SCHEMA_INVALID', `schema: ${path} has a key that is not text`);
      // A key is the issuer's text: name it in messages only when it looks like a field name.
      out[k] = toJson(v, `${path}.${/^[A-Za-z0-9_]{1,16}$/.test(k) ? k : '(key)'}`);
    }
    return out;
  }
  const what = value instanceof Tag ? `a CBOR tag ${String(value.tag)}` : value instanceof Uint8Array ? 'a byte string' : typeof value;
  fail('DCC_SCHEMA_INVALID', `schema: ${path} is ${what}, which has no JSON form`);
}

function numericDate(claims: Map<unknown, unknown>, key: number, name: string): number {
  const v = claims.get(key);
  if (v === undefined) fail('DCC_CWT_INVALID', `cwt: claim ${name} (${key}) is missing`);
  if (typeof v !== 'number' || !Number.isFinite(v)) fail('DCC_CWT_INVALID', `cwt: claim ${name} (${key}) is not a NumericDate`);
  return v;
}

/** Parses the (signature-checked) COSE payload as CWT claims. */
export function parseCwt(payload: Uint8Array): CwtClaims {
  let claims: unknown;
  try {
    claims = decodeStrict(payload);
  } catch {
    fail('DCC_CWT_INVALID', 'cwt: the COSE payload is not one well-formed CBOR item');
  }
  if (!(claims instanceof Map)) fail('DCC_CWT_INVALID', 'cwt: the COSE payload is not a CBOR map of claims');
  const iss = claims.get(CLAIM_ISS);
  if (iss !== undefined && typeof iss !== 'string') fail('DCC_CWT_INVALID', 'cwt: claim iss (1) is not text');
  const exp = numericDate(claims, CLAIM_EXP, 'exp');
  const iat = numericDate(claims, CLAIM_IAT, 'iat');
  const hcert = claims.get(CLAIM_HCERT);
  if (!(hcert instanceof Map)) fail('DCC_HCERT_MISSING', 'cwt: claim hcert (-260) is missing or not a map');
  const dcc = hcert.get(HCERT_EU_DCC);
  if (!(dcc instanceof Map)) fail('DCC_HCERT_MISSING', 'cwt: hcert (-260) has no EU DCC (key 1) map');
  return { iss: iss ?? null, exp, iat, hcert: dcc };
}
