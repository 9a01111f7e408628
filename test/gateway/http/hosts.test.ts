// The Host allow-list over real HTTP: a name that is not this gateway's (a DNS-rebinding
// page's own name) gets 421 before any route runs, whatever the route and the Origin.
import { request } from 'node:http';
import { connect } from 'node:net';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { allowedHostSet, hostOfHeader } from '../../../gateway/http/hosts.js';
import { PIN } from './guard-helpers.js';
import { startHarness, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Raw {
  status: number;
  body: string;
}

/** One request with a Host header of the test's choosing (fetch does not allow one). */
function send(harness: Harness, method: string, path: string, host: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  const url = new URL(harness.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers: { host, ...headers }, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        // An event stream never ends by itself: the status line and headers are enough.
        if (res.headers['content-type']?.startsWith('text/event-stream')) {
          resolve({ status: res.statusCode ?? 0, body: '' });
          res.destroy();
          return;
        }
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A raw HTTP/1.x request, byte for byte (absolute-form targets, no Host at all). */
function rawRequest(harness: Harness, text: string): Promise<string> {
  const url = new URL(harness.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      out += c;
      if (out.includes('\r\n\r\n')) socket.end();
    });
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.write(text);
  });
}

const ROUTES: [string, string, string?][] = [
  ['GET', '/'],
  ['GET', '/?lane=north'],
  ['GET', '/guard'],
  ['GET', '/kiosk.css'],
  ['GET', '/fonts/noto-sans-sc.css'],
  ['GET', '/kiosk.js'],
  ['GET', '/api/lanes'],
  ['GET', '/api/stream?lane=north'],
  ['GET', '/api/stream'],
  ['GET', '/api/events?subject=p1_W-001'],
  ['GET', '/metrics'],
  ['GET', '/healthz'],
  ['GET', '/api/guard/session'],
  ['GET', '/api/sim/lanes/north/relay'],
  ['POST', '/api/sim/lanes/north/scan', '{"payload":"x"}'],
  ['POST', '/api/sim/lanes/north/temperature', '{"celsius":36.6}'],
  ['POST', '/api/guard/login', '{"guardId":"G-01","pin":"00000000"}'],
  ['GET', '/no-such-route'],
];

describe('Host allow-list', () => {
  it('refuses every route, kiosk, stream, sim controls and sign-in included, for a foreign Host with a matching Origin', async () => {
    h = await startHarness({ guard: {} });
    await h.guard!.accounts.add('G-01', '王保安', PIN);
    const port = new URL(h.url).port;
    for (const host of [`evil.example:${port}`, 'evil.example', `localhost.evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `10.0.0.7:${port}`]) {
      for (const [method, path, body] of ROUTES) {
        // By design /healthz also answers probes by IP (see the test below).
        if (path === '/healthz' && /^\d/.test(host)) continue;
        const headers: Record<string, string> = { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' };
        if (body !== undefined) headers['content-type'] = 'application/json';
        const res = await send(h, method, path, host, headers, body);
        expect(res.status, `${method} ${path} Host ${host}`).toBe(421);
        expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'HOST_NOT_ALLOWED' } });
      }
    }
    // Nothing ran: no scan or temperature reached the lane, no sign-in was tried.
    expect(h.lanes[0]!.sim!.scans).toEqual([]);
    expect(h.lanes[0]!.sim!.temperatures).toEqual([]);
    const db = new Database(h.store.path, { readonly: true });
    expect(db.prepare('SELECT failed_count FROM guards').get()).toEqual({ failed_count: 0 });
    db.close();
  });

  it('answers the loopback names and the listen address on any port', async () => {
    h = await startHarness();
    const port = new URL(h.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, 'localhost', `[::1]:${port}`, '[0:0:0:0:0:0:0:1]:1', `localhost.:${port}`, '127.0.0.1:65535']) {
      expect((await send(h, 'GET', '/api/lanes', host)).status, host).toBe(200);
    }
  });

  it('answers the names configured in http.allowedHosts, and only those', async () => {
    h = await startHarness({ allowedHosts: ['checkpoint-3.lan', '192.168.1.20', 'fe80::1'] });
    for (const host of ['checkpoint-3.lan:8080', 'CHECKPOINT-3.LAN', '192.168.1.20:8080', '[fe80::1]:8080']) {
      expect((await send(h, 'GET', '/api/lanes', host)).status, host).toBe(200);
    }
    for (const host of ['checkpoint-4.lan', 'x.checkpoint-3.lan', '192.168.1.21']) {
      expect((await send(h, 'GET', '/api/lanes', host)).status, host).toBe(421);
    }
  });

  it('lets /healthz answer a probe that addresses the gateway by any IP, never by a foreign name', async () => {
    h = await startHarness();
    expect((await send(h, 'GET', '/healthz', '10.1.2.3:8080')).status).toBe(200);
    expect((await send(h, 'GET', '/healthz', '[fd00::5]:8080')).status).toBe(200);
    expect((await send(h, 'GET', '/healthz', 'evil.example:8080')).status).toBe(421);
    expect((await send(h, 'GET', '/api/lanes', '10.1.2.3:8080')).status).toBe(421);
    expect((await send(h, 'POST', '/healthz', '10.1.2.3:8080')).status).toBe(421);
  });

  it('refuses a malformed Host, a missing one, and an absolute-form target naming a foreign host', async () => {
    h = await startHarness();
    for (const host of ['localhost:99999', 'local host', 'user@localhost', 'localhost:80:80', '[::1']) {
      const res = await send(h, 'GET', '/api/lanes', host);
      expect([400, 421], host).toContain(res.status);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'HOST_NOT_ALLOWED' } });
    }
    const noHost = await rawRequest(h, 'GET /api/lanes HTTP/1.0\r\n\r\n');
    expect(noHost).toMatch(/^HTTP\/1\.1 400 /);
    expect(noHost).toContain('HOST_NOT_ALLOWED');
    const absolute = await rawRequest(h, 'GET http://evil.example/api/lanes HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(absolute).toMatch(/^HTTP\/1\.1 421 /);
    const absoluteOk = await rawRequest(h, 'GET http://localhost/api/lanes HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(absoluteOk).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('allowed host names', () => {
  it('are the loopback names, plus the listen address unless it is a wildcard, plus the configured ones', () => {
    expect([...allowedHostSet('127.0.0.1')].sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    expect([...allowedHostSet('0.0.0.0')].sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    expect([...allowedHostSet('::')].sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    expect(allowedHostSet('192.168.1.20').has('192.168.1.20')).toBe(true);
    expect(allowedHostSet('0.0.0.0', ['Gate-3.Lan.', '::ffff:10.0.0.1']).has('gate-3.lan')).toBe(true);
  });

  it('compare the host part of a Host header in one normal form', () => {
    expect(hostOfHeader('LOCALHOST:8080')).toBe('localhost');
    expect(hostOfHeader('[0:0::1]:80')).toBe('[::1]');
    expect(hostOfHeader('evil.example')).toBe('evil.example');
    expect(hostOfHeader('a b')).toBeUndefined();
    expect(hostOfHeader('localhost:123456')).toBeUndefined();
  });
});
