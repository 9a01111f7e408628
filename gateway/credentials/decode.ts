// One scanner payload → one ParsedCredential. The single entry point the lane calls; it
// never throws for any payload, and never echoes the payload (it may hold personal data).
import { BADGE_PREFIX, parseBadge } from './badge.js';
import { DCC_PREFIX, type DccResult } from './dcc/types.js';
import { dccCredential } from './dcc-facts.js';
import { verifyPass, type PassRules } from './pass.js';
import type { TrustList } from './trust-list.js';
import type { ParsedCredential } from './types.js';

/**
 * Largest payload looked at, in bytes (UTF-8). A real pass is under 1 KiB and QR codes top
 * out near 3 KiB, so anything bigger is not one of ours: CREDENTIAL_UNKNOWN, decided before
 * decoding so junk costs nothing.
 */
export const MAX_PAYLOAD_BYTES = 4096;

/** Three dot-separated base64url segments; the signature may be empty so an unsigned (alg none) token is reported as a bad pass, not an unknown code. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
/** A UTF-16 surrogate without its partner: a JS string that no UTF-8 byte sequence can produce. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A loop, not /[\r\n]+$/: that regex backtracks quadratically on long runs of CR/LF. */
function trimTrailingCrLf(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === '\r' || text[end - 1] === '\n')) end -= 1;
  return text.slice(0, end);
}

/**
 * What decodeCredential needs beyond the pass rules: the EU DCC verifier bound to the DCC
 * trust in force (`(qr, now) => verifyDcc(qr, trust, now)`). Absent: no DCC signer is
 * trusted, every `HC1:` payload is DCC_UNKNOWN_SIGNER.
 */
export interface DecodeOptions extends PassRules {
  dcc?: (qr: string, now: number) => DccResult;
}

function decodeDcc(text: string, now: number, verify: DecodeOptions['dcc']): ParsedCredential {
  if (verify === undefined) return { ok: false, kind: 'dcc', code: 'DCC_UNKNOWN_SIGNER', detail: 'EU DCC: no DCC document signers are configured (trust.dccSignersDir, dcc-trust update)' };
  try {
    return dccCredential(verify(text, now));
  } catch (err) {
    // verifyDcc never throws by contract; if it does, refuse and say so (no payload quoted).
    return { ok: false, kind: 'dcc', code: 'DCC_INVALID', detail: `EU DCC could not be verified: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function unknown(code: 'CREDENTIAL_UNKNOWN' | 'CREDENTIAL_NOT_TEXT', detail: string): ParsedCredential {
  return { ok: false, kind: 'unknown', code, detail };
}

/**
 * Decodes what a scanner read (raw bytes, or text already decoded) at time `now` (epoch ms):
 * - more than MAX_PAYLOAD_BYTES → CREDENTIAL_UNKNOWN
 * - bytes that are not UTF-8 (or a string with a lone surrogate) → CREDENTIAL_NOT_TEXT
 * - trailing CR/LF (scanner line endings) removed; nothing else is trimmed
 * - `x.y.z` of base64url → health pass, or vehicle pass when its header typ is vehicle-pass+jwt (verifyPass, with `rules`)
 * - `CPB1:` → staff badge (parseBadge; a bad id is BADGE_MALFORMED)
 * - `HC1:` → EU Digital COVID Certificate (options.dcc, then dccCredential: kind `dcc`, DCC_* codes)
 * - anything else, including an empty payload → CREDENTIAL_UNKNOWN
 */
export function decodeCredential(payload: Buffer | Uint8Array | string, trust: TrustList, now: number, rules: DecodeOptions = {}): Promise<ParsedCredential> {
  // Not an async function: a health pass hands on verifyPass's promise as it is (an async
  // function returning it would add microtask turns to every decision), the other kinds a
  // settled one; a throw rejects it, as it did when this was async.
  try {
    const text = payloadText(payload);
    if (typeof text !== 'string') return Promise.resolve(text);
    if (COMPACT_JWS.test(text)) return verifyPass(text, trust, now, rules);
    return Promise.resolve(decodeOther(text, now, rules));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The payload as text without its trailing CR/LF, or the credential it already is (too long, not text, empty). */
function payloadText(payload: Buffer | Uint8Array | string): string | ParsedCredential {
  let text: string;
  if (typeof payload === 'string') {
    const bytes = Buffer.byteLength(payload, 'utf8');
    if (bytes > MAX_PAYLOAD_BYTES) return unknown('CREDENTIAL_UNKNOWN', `payload is ${bytes} bytes, more than the ${MAX_PAYLOAD_BYTES} accepted`);
    if (LONE_SURROGATE.test(payload)) return unknown('CREDENTIAL_NOT_TEXT', 'payload has characters that are not valid Unicode text');
    text = payload;
  } else {
    if (payload.length > MAX_PAYLOAD_BYTES) {
      return unknown('CREDENTIAL_UNKNOWN', `payload is ${payload.length} bytes, more than the ${MAX_PAYLOAD_BYTES} accepted`);
    }
    try {
      text = utf8.decode(payload);
    } catch {
      return unknown('CREDENTIAL_NOT_TEXT', `payload of ${payload.length} bytes is not UTF-8 text`);
    }
  }
  text = trimTrailingCrLf(text);
  if (text === '') return unknown('CREDENTIAL_UNKNOWN', 'payload is empty');
  return text;
}

/** A payload that is no compact JWS: a staff badge, an EU DCC or nothing known. */
function decodeOther(text: string, now: number, rules: DecodeOptions): ParsedCredential {
  if (text.startsWith(BADGE_PREFIX)) return parseBadge(text);
  if (text.startsWith(DCC_PREFIX)) return decodeDcc(text, now, rules.dcc);
  return unknown('CREDENTIAL_UNKNOWN', `payload of ${text.length} characters is neither a health pass (compact JWS), a staff badge (${BADGE_PREFIX}…) nor an EU DCC (${DCC_PREFIX}…)`);
}
