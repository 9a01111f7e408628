// Signing in to the guard API from a test, as the console's script does.
import { expect } from 'vitest';
import type { Harness } from './helpers.js';

export const PIN = '12345678';

export interface SignedIn {
  cookie: string;
  csrf: string;
  /** Headers of a same-origin state-changing request with this session. */
  post: Record<string, string>;
  get: Record<string, string>;
}

export function cookieOf(res: Response): string {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('gw_guard='));
  expect(set, 'Set-Cookie gw_guard').toBeDefined();
  return (set ?? '').split(';')[0] ?? '';
}

export async function login(h: Harness, guardId = 'G-01', pin = PIN): Promise<Response> {
  return fetch(`${h.url}/api/guard/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: h.url },
    body: JSON.stringify({ guardId, pin }),
  });
}

export async function signIn(h: Harness, guardId = 'G-01', name = '王保安'): Promise<SignedIn> {
  if (h.guard?.accounts.get(guardId) === undefined) await h.guard?.accounts.add(guardId, name, PIN);
  const res = await login(h, guardId);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { csrfToken: string };
  const cookie = cookieOf(res);
  return {
    cookie,
    csrf: body.csrfToken,
    get: { cookie },
    post: { cookie, 'x-csrf-token': body.csrfToken, origin: h.url, 'content-type': 'application/json' },
  };
}
