import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTrustDir } from '../../../gateway/config/trust.js';
import { CredentialError, generateIssuerKeys, issuePass, parsePassClaimsInput, verifyPass } from '../../../gateway/credentials/index.js';
import type { IssuerKeys } from '../../../gateway/credentials/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NOW = Date.UTC(2024, 0, 10);

let dir: string;
let a: IssuerKeys;
let b: IssuerKeys;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trust-'));
  [a, b] = await Promise.all([generateIssuerKeys('issuer-a'), generateIssuerKeys('issuer-b')]);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const put = (name: string, value: unknown) =>
  writeFile(path.join(dir, name), typeof value === 'string' ? value : JSON.stringify(value, null, 2));

async function loadError(): Promise<CredentialError> {
  const error: unknown = await loadTrustDir(dir).catch((e: unknown) => e);
  if (!(error instanceof CredentialError)) throw new Error(`expected a CredentialError, got ${String(error)}`);
  return error;
}

describe('loadTrustDir', () => {
  it('loads every *.jwk.json by kid and leaves other files alone', async () => {
    await put('b.jwk.json', b.publicJwk);
    await put('a.jwk.json', { ...a.publicJwk, issuer: 'Office A' });
    await put('README.md', '# keys');
    await put('notes.json', { d: 'not a key file, ignored' });
    const list = await loadTrustDir(dir);
    expect([...list.keys()]).toEqual(['issuer-a', 'issuer-b']);
    expect(list.get('issuer-a')?.issuer).toBe('Office A');
  });

  it('gives an empty list for an empty directory', async () => {
    expect((await loadTrustDir(dir)).size).toBe(0);
  });

  it('refuses a missing directory with TRUST_DIR_UNREADABLE naming it', async () => {
    const missing = path.join(dir, 'nope');
    await expect(loadTrustDir(missing)).rejects.toMatchObject({ code: 'TRUST_DIR_UNREADABLE', source: missing });
  });

  it('refuses to start with a private key in the trust directory, naming the file', async () => {
    await put('a.jwk.json', a.publicJwk);
    await put('issuer-b.private.jwk.json', b.privateJwk);
    const error = await loadError();
    expect(error.code).toBe('TRUST_KEY_PRIVATE');
    expect(error.source).toBe(path.join(dir, 'issuer-b.private.jwk.json'));
    expect(error.message).toContain('issuer-b.private.jwk.json: is a private key');
  });

  it('refuses a file that is not JSON, naming the file and what was expected', async () => {
    await put('broken.jwk.json', '{"kty": "OKP",');
    const error = await loadError();
    expect(error).toMatchObject({ code: 'TRUST_KEY_INVALID', source: path.join(dir, 'broken.jwk.json') });
    expect(error.message).toMatch(/broken\.jwk\.json: expected JSON \(one public JWK\)/);
  });

  it('refuses a key that is not Ed25519 or has no kid, naming the file and the member', async () => {
    await put('x.jwk.json', { ...a.publicJwk, crv: 'Ed448' });
    expect((await loadError()).message).toMatch(/x\.jwk\.json: expected "crv": "Ed25519", got "Ed448"/);
    await rm(path.join(dir, 'x.jwk.json'));
    const { kid: _kid, ...noKid } = a.publicJwk;
    await put('y.jwk.json', noKid);
    expect((await loadError()).message).toMatch(/y\.jwk\.json: expected "kid"/);
  });

  it('refuses two files with one kid, naming both', async () => {
    await put('1.jwk.json', a.publicJwk);
    await put('2.jwk.json', { ...b.publicJwk, kid: 'issuer-a' });
    const error = await loadError();
    expect(error.code).toBe('TRUST_KEY_DUPLICATE');
    expect(error.message).toContain(`${path.join(dir, '2.jwk.json')}: kid "issuer-a" is already used by ${path.join(dir, '1.jwk.json')}`);
  });

  it('refuses a directory named like a key file', async () => {
    await mkdir(path.join(dir, 'odd.jwk.json'));
    expect(await loadError()).toMatchObject({ code: 'TRUST_KEY_INVALID', source: path.join(dir, 'odd.jwk.json') });
  });

  it('verifies passes with the keys it loaded', async () => {
    await put('a.jwk.json', a.publicJwk);
    const claims = parsePassClaimsInput({ sub: 's', name: 'n', category: 'driver', healthCode: 'green' });
    const token = await issuePass(claims, a.privateJwk, { now: NOW });
    expect(await verifyPass(token, await loadTrustDir(dir), NOW)).toMatchObject({ ok: true, issuer: 'issuer-a' });
  });
});

describe('the committed demo keys', () => {
  it('config/trust holds public keys only and trusts the demo issuer, whose private key signs passes it accepts', async () => {
    const trust = await loadTrustDir(path.join(ROOT, 'config/trust'));
    expect(trust.get('demo-issuer-1')?.issuer).toBe('Demo epidemic office (DEMO ONLY)');
    const privateJwk: unknown = JSON.parse(await readFile(path.join(ROOT, 'config/demo/issuer-1.private.jwk.json'), 'utf8'));
    const claims = parsePassClaimsInput(JSON.parse(await readFile(path.join(ROOT, 'config/demo/pass-claims.json'), 'utf8')));
    const token = await issuePass(claims, privateJwk as IssuerKeys['privateJwk'], { now: NOW });
    expect(await verifyPass(token, trust, NOW)).toMatchObject({ ok: true, kind: 'health-pass', subject: { category: 'employee' } });
  });

  it('config/trust holds no file a trust loader would skip silently', async () => {
    const names = await readdir(path.join(ROOT, 'config/trust'));
    expect(names.every((n) => n.endsWith('.jwk.json') || n.endsWith('.md'))).toBe(true);
  });
});

describe('loadTrustDir read again (the config check, then the start)', () => {
  it('gives the same key for an unchanged file and reads a changed one again', async () => {
    await put('a.jwk.json', a.publicJwk);
    const first = await loadTrustDir(dir);
    const again = await loadTrustDir(dir);
    expect(again.get('issuer-a')).toBe(first.get('issuer-a'));
    await put('a.jwk.json', { ...a.publicJwk, issuer: 'Office A' });
    const changed = await loadTrustDir(dir);
    expect(changed.get('issuer-a')?.issuer).toBe('Office A');
    expect(changed.get('issuer-a')).not.toBe(first.get('issuer-a'));
  });

  it('reports a file that became a private key, whatever it held before', async () => {
    await put('a.jwk.json', a.publicJwk);
    await loadTrustDir(dir);
    await put('a.jwk.json', { ...a.publicJwk, d: 'c2VjcmV0' });
    expect((await loadError()).code).toBe('TRUST_KEY_PRIVATE');
  });
});
