// The scan fuzzer: payloads built from real passes and mutated by fast-check (bit flips,
// truncations, splices, segments swapped between passes, claims altered under the old
// signature, passes re-signed with untrusted keys, alg none / HS256, garbage, huge
// inputs), fed as scanner bytes through the lane's decode → resolve → decide path.
// The oracle is independent of the gateway's code: node:crypto verifies the Ed25519
// signature with the trusted key, and the claims must equal those of a pass built to be
// admitted. Anything else the gateway admits is a wrong admission.
import { createHmac, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { decodeCredential, issuePass, resolveCredential, trustListFromJwks, type TrustJwk, type TrustList } from '../../gateway/credentials/index.js';
import { decide } from '../../gateway/policy/decide.js';
import { MINE_ENTRANCE } from '../../gateway/policy/profiles.js';
import type { LocalFacts } from '../../gateway/policy/types.js';
import { ROOT } from '../integration/helpers.js';

const readJson = (f: string): unknown => JSON.parse(readFileSync(path.join(ROOT, f), 'utf8'));
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const NO_FACTS: LocalFacts = { watchlist: [], approvals: [], riskAreas: [] };

interface Base {
  token: string;
  /** Built to be admitted: trusted key, green, negative test, employee. */
  admissible: boolean;
}

export interface FuzzWorld {
  now: number;
  trust: TrustList;
  trustedKid: string;
  trustedKey: KeyObject;
  bases: Base[];
  /** Exact claims of the admissible passes, as signed. */
  admissibleClaims: unknown[];
}

function claimsFor(now: number, i: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    sub: `fuzz-${i}`,
    name: '测试员',
    category: 'employee',
    healthCode: 'green',
    travel: { riskLevel: 'none', visits: [], asOf: iso(now - 3600_000) },
    test: { result: 'negative', sampledAt: iso(now - 2 * 3600_000) },
    ...over,
  };
}

/** Sign arbitrary header and claims with any Ed25519 key (untrusted re-signing). */
function signWith(key: KeyObject, header: unknown, claims: unknown): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

export async function fuzzWorld(): Promise<FuzzWorld> {
  const now = Date.now();
  const privateJwk = readJson('config/demo/issuer-1.private.jwk.json') as Parameters<typeof issuePass>[1];
  const publicJwk = readJson('config/trust/demo-issuer-1.jwk.json') as TrustJwk & { kid: string };
  const trust = await trustListFromJwks([publicJwk]);
  const trustedKey = createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  const trustedKid = publicJwk.kid;
  const bases: Base[] = [];
  const admissibleClaims: unknown[] = [];
  const issue = async (claims: Record<string, unknown>, admissible: boolean) => {
    const token = await issuePass(claims, privateJwk, { now });
    bases.push({ token, admissible });
    if (admissible) admissibleClaims.push(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')));
  };
  for (let i = 0; i < 3; i++) await issue(claimsFor(now, i), true);
  await issue(claimsFor(now, 10, { healthCode: 'red' }), false);
  await issue(claimsFor(now, 11, { healthCode: 'yellow' }), false);
  await issue(claimsFor(now, 12, { test: { result: 'positive', sampledAt: new Date(now - 3600_000).toISOString() } }), false);
  await issue(claimsFor(now, 13, { test: { result: 'negative', sampledAt: new Date(now - 30 * 86400_000).toISOString() } }), false);
  await issue(claimsFor(now, 14, { category: 'visitor' }), false);
  await issue(claimsFor(now, 15, { travel: { riskLevel: 'high', visits: [], asOf: new Date(now).toISOString() } }), false);
  await issue(claimsFor(now, 16, { iat: Math.floor(now / 1000) - 3 * 86400, exp: Math.floor(now / 1000) - 86400 }), false);

  // The same good claims under keys the gateway does not trust, one with the trusted kid.
  const good = admissibleClaims[0] as Record<string, unknown>;
  const rogue = generateKeyPairSync('ed25519').privateKey;
  bases.push({ token: signWith(rogue, { alg: 'EdDSA', kid: trustedKid, typ: 'JWT' }, good), admissible: false });
  bases.push({ token: signWith(rogue, { alg: 'EdDSA', kid: 'rogue-1', typ: 'JWT' }, good), admissible: false });
  // Algorithm tricks: unsigned, and HMAC keyed with the public key's bytes.
  bases.push({ token: `${b64({ alg: 'none', kid: trustedKid, typ: 'JWT' })}.${b64(good)}.`, admissible: false });
  const hsInput = `${b64({ alg: 'HS256', kid: trustedKid, typ: 'JWT' })}.${b64(good)}`;
  const hmac = createHmac('sha256', JSON.stringify(publicJwk)).update(hsInput).digest('base64url');
  bases.push({ token: `${hsInput}.${hmac}`, admissible: false });
  return { now, trust, trustedKid, trustedKey, bases, admissibleClaims };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Is `payload` exactly an admissible pass, signed by the trusted key? (Independent of gateway code.) */
export function legitimatelyAdmissible(world: FuzzWorld, payload: Buffer): boolean {
  if (payload.length > 4096) return false;
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return false;
  }
  // Scanners end a code with CR/LF; decode.ts documents that it drops them, nothing else.
  text = text.replace(/[\r\n]+$/, '');
  const parts = text.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p))) return false;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header['alg'] !== 'EdDSA' || header['kid'] !== world.trustedKid) return false;
    if (!verify(null, Buffer.from(`${h}.${p}`), world.trustedKey, Buffer.from(s, 'base64url'))) return false;
    const claims: unknown = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    return world.admissibleClaims.some((c) => isDeepStrictEqual(c, claims));
  } catch {
    return false;
  }
}

type Mutation = (token: string, other: string) => Buffer;

const swapSegment = (i: number): Mutation => (t, o) => {
  const a = t.split('.');
  const b = o.split('.');
  a[i % 3] = b[i % 3] ?? '';
  return Buffer.from(a.join('.'));
};

/** Change one claim (or add one) under the original signature. */
const alterClaim = (key: string, value: unknown): Mutation => (t) => {
  const [h, p, s] = t.split('.');
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    claims = {};
  }
  return Buffer.from(`${h}.${b64({ ...claims, [key]: value })}.${s}`);
};

const CLAIM_KEYS = ['sub', 'name', 'category', 'healthCode', 'travel', 'test', 'iat', 'exp', 'nbf', 'iss', 'admin'];

export function mutationArb(): fc.Arbitrary<{ name: string; apply: Mutation }> {
  const m = (name: string, arb: fc.Arbitrary<Mutation>) => arb.map((apply) => ({ name, apply }));
  return fc.oneof(
    m('identity', fc.constant((t: string) => Buffer.from(t))),
    m('trailing-crlf', fc.constantFrom('\r', '\n', '\r\n', '\r\n\r\n').map((e) => (t: string) => Buffer.from(t + e))),
    m(
      'bit-flips',
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }).map((flips) => (t: string) => {
        const b = Buffer.from(t);
        for (const [pos, bit] of flips) b[pos % b.length]! ^= 1 << bit;
        return b;
      }),
    ),
    m('truncate', fc.nat().map((n) => (t: string) => Buffer.from(t.slice(0, n % t.length)))),
    m('drop-tail', fc.integer({ min: 1, max: 8 }).map((n) => (t: string) => Buffer.from(t.slice(0, -n)))),
    m(
      'splice',
      fc.tuple(fc.nat(), fc.nat(8), fc.uint8Array({ maxLength: 16 })).map(([at, del, ins]) => (t: string) => {
        const b = Buffer.from(t);
        const i = at % (b.length + 1);
        return Buffer.concat([b.subarray(0, i), Buffer.from(ins), b.subarray(i + del)]);
      }),
    ),
    m('swap-segment', fc.nat(2).map(swapSegment)),
    m('alter-claim', fc.tuple(fc.constantFrom(...CLAIM_KEYS), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('green', 'employee', 'negative', 4102444800))).map(([k, v]) => alterClaim(k, v))),
    m('header-only-change', fc.constantFrom({ alg: 'EdDSA' }, { alg: 'EdDSA', kid: 'demo-issuer-1', typ: 'vehicle-pass+jwt' }, { alg: 'EdDSA', kid: 'demo-issuer-1', crit: ['x'] }, { alg: 'none' }).map((hdr) => (t: string) => Buffer.from([b64(hdr), ...t.split('.').slice(1)].join('.')))),
    m('extra-segment', fc.constant((t: string) => Buffer.from(`${t}.${t.split('.')[2]}`))),
    m('prefix-junk', fc.string({ maxLength: 8 }).map((s) => (t: string) => Buffer.from(s + t))),
    m('garbage', fc.uint8Array({ maxLength: 600 }).map((g) => () => Buffer.from(g))),
    m('garbage-text', fc.string({ unit: 'binary', maxLength: 300 }).map((g) => () => Buffer.from(g))),
    m('badge-like', fc.string({ maxLength: 40 }).map((g) => () => Buffer.from(`CPB1:${g}`))),
    m('huge', fc.integer({ min: 4000, max: 70_000 }).map((n) => (t: string) => Buffer.from(t.padEnd(n, t)))),
    m('huge-segment', fc.integer({ min: 3000, max: 5000 }).map((n) => (t: string) => {
      const [h, p, s] = t.split('.');
      return Buffer.from(`${h}.${(p ?? '').padEnd(n, 'A')}.${s}`);
    })),
  );
}

export interface FuzzStats {
  runs: number;
  admitted: number;
  wronglyAdmitted: { mutation: string; payload: string }[];
  threw: { mutation: string; error: string }[];
  outcomes: Record<string, number>;
  byMutation: Record<string, number>;
  ms: number;
}

/** One payload through the lane's path (decode → resolve → decide) with a normal reading. */
export async function decideScan(world: FuzzWorld, payload: Buffer): Promise<string> {
  const parsed = await decodeCredential(payload, world.trust, world.now);
  const credential = resolveCredential(parsed, () => undefined);
  return decide({ credential, readings: [{ celsius: 36.5, at: world.now }], facts: NO_FACTS, profile: MINE_ENTRANCE, now: world.now }).outcome;
}

export async function runScanFuzz(world: FuzzWorld, runs: number, seed: number): Promise<FuzzStats> {
  const stats: FuzzStats = { runs: 0, admitted: 0, wronglyAdmitted: [], threw: [], outcomes: {}, byMutation: {}, ms: 0 };
  const t0 = Date.now();
  const arb = fc.tuple(fc.nat(world.bases.length - 1), fc.nat(world.bases.length - 1), mutationArb());
  // fc.sample streams values from the seed: no shrinking needed, every failure is recorded.
  const CHUNK = 5000;
  for (let done = 0; done < runs; done += CHUNK) {
    const batch = fc.sample(arb, { numRuns: Math.min(CHUNK, runs - done), seed: seed + done });
    for (const [i, j, mutation] of batch) {
      const payload = mutation.apply(world.bases[i]!.token, world.bases[j]!.token);
      stats.runs++;
      stats.byMutation[mutation.name] = (stats.byMutation[mutation.name] ?? 0) + 1;
      let outcome: string;
      try {
        outcome = await decideScan(world, payload);
      } catch (err) {
        stats.threw.push({ mutation: mutation.name, error: (err as Error).stack ?? String(err) });
        continue;
      }
      stats.outcomes[outcome] = (stats.outcomes[outcome] ?? 0) + 1;
      if (outcome === 'admit') {
        stats.admitted++;
        if (!legitimatelyAdmissible(world, payload)) stats.wronglyAdmitted.push({ mutation: mutation.name, payload: payload.toString('base64') });
      }
    }
  }
  stats.ms = Date.now() - t0;
  return stats;
}
