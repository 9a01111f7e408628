// zlib inflate with a bound on the output, so a small QR cannot expand into a large
// allocation, and nothing after the end of the stream. The DCC spec makes zlib compression
// mandatory ("the CWT SHALL be compressed using ZLIB"), so an uncompressed COSE fails.
import { inflateSync, type ZlibOptions } from 'node:zlib';
import { fail } from './failure.js';

/** A DCC payload is under 2 KiB in practice; this is generous. */
export const MAX_INFLATED_BYTES = 64 * 1024;

export function inflateDcc(bytes: Uint8Array): Uint8Array {
  // RFC 1950 header: CM = 8 (deflate), CINFO ≤ 7, (CMF·256 + FLG) divisible by 31.
  const cmf = bytes[0];
  const flg = bytes[1];
  if (cmf === undefined || flg === undefined || (cmf & 0x0f) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0) {
    fail('DCC_INFLATE_FAILED', 'decompress: the data does not start with a zlib header (the DCC is not compressed)');
  }
  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // `info` hands back the engine, whose bytesWritten is the input zlib consumed.
    inflated = inflateSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES, info: true } as ZlibOptions) as unknown as typeof inflated;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      fail('DCC_TOO_LARGE', `decompress: the payload inflates beyond ${MAX_INFLATED_BYTES} bytes`);
    }
    fail('DCC_INFLATE_FAILED', 'decompress: the zlib stream is broken or truncated');
  }
  // zlib stops at the end of the stream and would ignore anything after it silently.
  if (inflated.engine.bytesWritten !== bytes.length) {
    fail('DCC_INFLATE_FAILED', `decompress: ${bytes.length - inflated.engine.bytesWritten} byte(s) follow the end of the zlib stream`);
  }
  return inflated.buffer;
}
