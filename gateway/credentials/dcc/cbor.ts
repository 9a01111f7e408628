// Strict CBOR decoding for everything the DCC carries: one well-formed item and no
// trailing bytes, no duplicate map keys, no simple values beyond true/false/null, bounded
// nesting. Tags stay Tag objects (no global tag decoders) and maps stay Maps, so nothing
// is silently reinterpreted. Indefinite lengths are accepted: neither the DCC spec nor
// RFC 9052 forbids them in a received message (only in the Sig_structure, which we build).
import { decode, type DecodeOptions } from 'cbor2';

const STRICT: DecodeOptions = {
  preferMap: true,
  rejectDuplicateKeys: true,
  ignoreGlobalTags: true,
  rejectSimple: true,
  rejectUndefined: true,
  maxDepth: 32,
};

/** Decodes one CBOR item; throws (a library error) on anything the strict options reject. */
export function decodeStrict(bytes: Uint8Array): unknown {
  return decode(plainBytes(bytes), STRICT);
}

/**
 * A plain Uint8Array view of the same memory. cbor2 encodes a Buffer (a subclass) as an
 * object rather than a byte string, and decodes byte strings as views of its input's class.
 */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
