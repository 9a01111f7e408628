// The Host allow-list: the gateway answers only for the host names it is configured for,
// whatever the port. A web page that rebinds its own name (evil.example) to 127.0.0.1
// makes the browser send "Host: evil.example" to this server with evil.example's origin:
// same-origin checks pass, so the Host header is the one thing that tells. Checked before
// any route runs (kiosk page, assets, SSE, sim controls, guard API, 404s).
import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { HttpError } from './errors.js';

/** Always allowed: a browser resolves these to this machine itself, never to a rebinder's address. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];
/** Listen addresses that mean "every interface": not a name a client would use. */
const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]', '*', '::0']);
/** Paths that also answer to any IP-literal Host (monitoring probes address the PC by IP). */
export const IP_HOST_PATHS: readonly string[] = ['/healthz'];

const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?$/;

/**
 * A host name (no port) in the one form it is compared in: lower case, IPv6 in brackets
 * and compressed, IPv4 dotted, without a trailing dot. undefined when it is not a host.
 */
export function normalizeHostName(name: string): string | undefined {
  let n = name.trim();
  // Only a name with a colon can be a bare IPv6 address: node's IPv6 pattern costs 4–7 ms to
  // compile at its first use, and the default names (localhost, [::1]) need not pay it at start.
  if (!n.startsWith('[') && n.includes(':') && isIP(n) === 6) n = `[${n}]`;
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$/.test(n)) return undefined;
  let hostname: string;
  try {
    hostname = new URL(`http://${n}/`).hostname;
  } catch {
    return undefined;
  }
  if (hostname.endsWith('.') && hostname.length > 1) hostname = hostname.slice(0, -1);
  return hostname.length === 0 ? undefined : hostname;
}

/** The host part of a Host header ("name:port"), normalized; undefined when malformed. */
export function hostOfHeader(value: string): string | undefined {
  const m = HOST_HEADER.exec(value.trim());
  if (m === null || m[1] === undefined) return undefined;
  if (m[2] !== undefined && Number(m[2]) > 65535) return undefined;
  return normalizeHostName(m[1]);
}

/** Loopback names, the listen address when it is a specific one, and the configured names. */
export function allowedHostSet(listenHost: string, configured: readonly string[] = []): Set<string> {
  const out = new Set<string>();
  for (const name of [...LOOPBACK_HOSTS, ...(WILDCARDS.has(listenHost.trim()) ? [] : [listenHost]), ...configured]) {
    const n = normalizeHostName(name);
    if (n !== undefined) out.add(n);
  }
  return out;
}

function isIpLiteral(host: string): boolean {
  return isIP(host.startsWith('[') ? host.slice(1, -1) : host) !== 0;
}

/** Refuses a request whose Host (or absolute-form target) is not on the allow-list: 421 HOST_NOT_ALLOWED. */
export function hostAllowList(allowed: ReadonlySet<string>): RequestHandler {
  const expected = `expected one of ${[...allowed].join(', ')} (any port); add the name to http.allowedHosts`;
  return (req, _res, next) => {
    const header = req.headers.host;
    if (header === undefined || header.length === 0) {
      throw new HttpError(400, 'HOST_NOT_ALLOWED', `request without a Host header refused; ${expected}`);
    }
    const hosts: (string | undefined)[] = [hostOfHeader(header)];
    // An absolute-form target ("GET http://name/ HTTP/1.1") names the host too; it must pass as well.
    if (!req.url.startsWith('/')) {
      try {
        hosts.push(normalizeHostName(new URL(req.url).hostname));
      } catch {
        hosts.push(undefined);
      }
    }
    const ipPathOk = (req.method === 'GET' || req.method === 'HEAD') && IP_HOST_PATHS.includes(req.path);
    for (const host of hosts) {
      if (host === undefined) {
        throw new HttpError(400, 'HOST_NOT_ALLOWED', `malformed Host ${JSON.stringify(header.slice(0, 100))}; ${expected}`);
      }
      if (!allowed.has(host) && !(ipPathOk && isIpLiteral(host))) {
        throw new HttpError(421, 'HOST_NOT_ALLOWED', `Host ${JSON.stringify(header.slice(0, 100))} is not a name this gateway answers for; ${expected}`);
      }
    }
    next();
  };
}
