// Malformed request bodies over real HTTP: every way a client can get a JSON body wrong is
// a 4xx with a stable code naming what was wrong, on every route that takes a body
// (the unauthenticated sign-in included), and never an error-level log line.
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, type SignedIn } from './guard-helpers.js';
import { errorOf, startHarness, type Harness } from './helpers.js';

const NOW = Date.parse('2024-12-04T10:30:00+08:00');

let h: Harness;
let guard: SignedIn;

beforeAll(async () => {
  h = await startHarness({
    guard: {
      now: NOW,
      zones: [{ id: 'canteen', name: 'Canteen', limit: 40, antiPassback: 'off', entryLanes: ['north'], exitLanes: ['south'], resetAt: [] }],
    },
  });
  guard = await signIn(h);
});
afterAll(async () => {
  await h.close();
});

interface Route {
  name: string;
  path: string;
  body: unknown;
  headers: () => Record<string, string>;
}

const ROUTES: Route[] = [
  { name: 'sign-in', path: '/api/guard/login', body: { guardId: 'G-02', pin: '00000000' }, headers: () => ({ origin: h.url }) },
  { name: 'sim scan', path: '/api/sim/lanes/north/scan', body: { payload: 'x' }, headers: () => ({}) },
  { name: 'sim temperature', path: '/api/sim/lanes/north/temperature', body: { celsius: 36.6 }, headers: () => ({}) },
  {
    name: 'override',
    path: '/api/lanes/north/override',
    body: { reason: 'OVERRIDE_IDENTITY_VERIFIED', note: 'n' },
    headers: () => ({ cookie: guard.cookie, 'x-csrf-token': guard.csrf, origin: h.url }),
  },
  { name: 'zone count', path: '/api/guard/zones/canteen/count', body: { count: 3, reason: 'r' }, headers: () => ({ cookie: guard.cookie, 'x-csrf-token': guard.csrf, origin: h.url }) },
  { name: 'acknowledge alerts', path: '/api/guard/alerts/ack', body: { ids: ['a-1'] }, headers: () => ({ cookie: guard.cookie, 'x-csrf-token': guard.csrf, origin: h.url }) },
];

async function post(route: Route, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${h.url}${route.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...route.headers(), ...headers },
    body,
  });
}

function noErrorLogs(): void {
  const bad = h.logs().filter((l) => Number(l['level']) >= 50 || JSON.stringify(l).includes('"stack"'));
  expect(bad).toEqual([]);
}

const json = (route: Route): string => JSON.stringify(route.body);

describe('malformed JSON bodies', () => {
  for (const route of ROUTES) {
    describe(route.name, () => {
      it('answers 400 BAD_ENCODING for a body that is not the gzip, deflate or br its Content-Encoding says', async () => {
        for (const encoding of ['gzip', 'deflate', 'br', 'GZIP']) {
          const res = await post(route, json(route), { 'content-encoding': encoding });
          expect(res.status, encoding).toBe(400);
          const err = await errorOf(res);
          expect(err.code).toBe('BAD_ENCODING');
          expect(err.message).toContain(`Content-Encoding ${encoding.toLowerCase()}`);
        }
        // A gzip stream cut short is refused the same way.
        const cut = gzipSync(json(route)).subarray(0, 12);
        const res = await post(route, cut, { 'content-encoding': 'gzip' });
        expect(res.status).toBe(400);
        expect((await errorOf(res)).code).toBe('BAD_ENCODING');
        noErrorLogs();
      });

      it('reads a body that really is gzip, deflate or br', async () => {
        for (const [encoding, data] of [
          ['gzip', gzipSync(json(route))],
          ['deflate', deflateSync(json(route))],
          ['br', brotliCompressSync(json(route))],
        ] as const) {
          const res = await post(route, data, { 'content-encoding': encoding });
          // The body was read: whatever the route answers, it is not about the body.
          const err = res.ok ? null : await errorOf(res);
          expect(err?.code ?? 'ok', encoding).not.toMatch(/^BAD_|UNSUPPORTED|TOO_LARGE/);
        }
      });

      it('answers 415 UNSUPPORTED_ENCODING for an encoding it cannot read', async () => {
        for (const encoding of ['compress', 'x-evil', 'gzip, gzip']) {
          const res = await post(route, json(route), { 'content-encoding': encoding });
          expect(res.status, encoding).toBe(415);
          const err = await errorOf(res);
          expect(err.code).toBe('UNSUPPORTED_ENCODING');
          expect(err.message).toContain('expected one of identity, gzip, deflate, br');
        }
        noErrorLogs();
      });

      it('answers 400 BAD_JSON for a body that is not JSON, and 413 for one too large, compressed or not', async () => {
        const bad = await post(route, '{"a":', {});
        expect(bad.status).toBe(400);
        expect((await errorOf(bad)).code).toBe('BAD_JSON');
        const big = JSON.stringify({ pad: 'x'.repeat(20_000) });
        const large = await post(route, big, {});
        expect(large.status).toBe(413);
        expect((await errorOf(large)).code).toBe('BODY_TOO_LARGE');
        // A small gzip that inflates past the limit (a "zip bomb") is refused as too large.
        const bomb = await post(route, gzipSync(Buffer.alloc(1 << 20, 0x20)), { 'content-encoding': 'gzip' });
        expect(bomb.status).toBe(413);
        expect((await errorOf(bomb)).code).toBe('BODY_TOO_LARGE');
        noErrorLogs();
      });

      it('answers 400 BAD_CHARSET for a charset other than UTF-8 and for bytes that are not UTF-8', async () => {
        for (const charset of ['latin1', 'utf-16le', 'utf8', 'x-nonsense', '"gbk"']) {
          const res = await post(route, json(route), { 'content-type': `application/json; charset=${charset}` });
          expect(res.status, charset).toBe(400);
          const err = await errorOf(res);
          expect(err.code).toBe('BAD_CHARSET');
          expect(err.message).toContain('expected charset=utf-8');
        }
        for (const charset of ['utf-8', 'UTF-8', '"utf-8"']) {
          const res = await post(route, json(route), { 'content-type': `application/json; charset=${charset}` });
          const err = res.ok ? null : await errorOf(res);
          expect(err?.code ?? 'ok', charset).not.toMatch(/^BAD_|UNSUPPORTED|TOO_LARGE/);
        }
        const notUtf8 = Buffer.concat([Buffer.from('{"x": "'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
        const res = await post(route, notUtf8, {});
        expect(res.status).toBe(400);
        expect((await errorOf(res)).code).toBe('BAD_CHARSET');
        noErrorLogs();
      });
    });
  }
});

describe('malformed requests outside the body', () => {
  it('answers a path that is not valid percent-encoding with 400 BAD_REQUEST, not 500', async () => {
    const res = await fetch(`${h.url}/api/sim/lanes/%E0%A4%A/relay`);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('BAD_REQUEST');
    noErrorLogs();
  });
});
