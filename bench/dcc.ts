// One EU DCC ("HC1:") checked end to end per call: prefix, base45, zlib, COSE/CBOR,
// signature, key usage, times, HCERT schema (verifyDcc). Baseline in the same run: a bare
// node:crypto verify of the same Sig_structure with the same key, i.e. the cost of the
// signature alone. ES256 and PS256, each over BENCH_DCC_N certificates (default 5 000).
import { constants, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { inflateSync } from 'node:zlib';
import { decode, encode, type Tag } from 'cbor2';
import { buildDccTrust, verifyDcc } from '../gateway/credentials/dcc/index.js';
import { decodeBase45 } from '../gateway/credentials/dcc/base45.js';
// The test issuer (node:crypto only) builds the DSCs; the bench needs no data files.
import { issueDcc, makeDsc, sampleHcert, trustEntry, type TestDsc } from '../test/fixtures/dcc-issuer.js';
import { row, summarize } from './stats.js';

const N = Number(process.env.BENCH_DCC_N ?? 5000);
const DAY = 86_400_000;
const WARMUP = 200;

/** The Sig_structure and signature inside a QR text, unpacked outside the timed loop. */
function signed(qr: string): { toBeSigned: Uint8Array; signature: Uint8Array } {
  const raw = new Uint8Array(inflateSync(decodeBase45(qr.slice(4))));
  const msg = decode(raw, { ignoreGlobalTags: true }) as Tag;
  const [prot, , payload, signature] = msg.contents as [Uint8Array, unknown, Uint8Array, Uint8Array];
  return { toBeSigned: encode(['Signature1', new Uint8Array(prot), new Uint8Array(0), new Uint8Array(payload)]), signature: new Uint8Array(signature) };
}

function time(label: string, items: readonly string[], once: (item: string) => boolean): void {
  for (let i = 0; i < Math.min(WARMUP, items.length); i++) if (!once(items[i] ?? '')) throw new Error(`${label}: not valid`);
  const latencies: number[] = [];
  const start = performance.now();
  for (const item of items) {
    const t = performance.now();
    const ok = once(item);
    latencies.push(performance.now() - t);
    if (!ok) throw new Error(`${label}: not valid`);
  }
  console.log(row(label, summarize(latencies, performance.now() - start)));
}

export async function benchDcc(): Promise<void> {
  const now = Date.now();
  const types = ['vaccination', 'test', 'recovery'] as const;
  for (const alg of ['ES256', 'PS256'] as const) {
    const dsc: TestDsc = makeDsc({ alg, eku: [...types], notBefore: now - DAY, notAfter: now + 365 * DAY });
    const trust = buildDccTrust([trustEntry(dsc)]);
    const qrs: string[] = [];
    for (let i = 0; i < N; i++) {
      qrs.push(issueDcc({ dsc, hcert: sampleHcert(types[i % 3] ?? 'test'), iat: now - DAY + i * 1000, exp: now + 30 * DAY, iss: 'AT' }));
    }
    // The same KeyObject the verifier uses, so the baseline is the signature check alone.
    const signer = trust.byKid.get(dsc.kid)?.[0];
    if (signer === undefined) throw new Error('no signer');
    const unpacked = new Map(qrs.map((q) => [q, signed(q)]));
    const options = alg === 'ES256' ? { key: signer.publicKey, dsaEncoding: 'ieee-p1363' as const } : { key: signer.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    console.log(`${alg}: ${N} certificates, ${Math.round(qrs.reduce((n, q) => n + q.length, 0) / N)} QR characters on average`);
    time(`verifyDcc ${alg} (decode + verify + schema)`, qrs, (q) => verifyDcc(q, trust, now).valid);
    time(`baseline: bare crypto.verify ${alg}`, qrs, (q) => {
      const s = unpacked.get(q);
      return s !== undefined && verify('sha256', s.toBeSigned, options, s.signature);
    });
  }
}
