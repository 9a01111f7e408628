// The EU DCC trust folder: DSC certificates as DER or PEM, kid computed from the DER, every
// bad file named. Certificates come from the DCC test issuer.
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadDccTrustDir, readDccTrustDir } from '../../../gateway/config/dcc-trust.js';
import { checkDccTrustInputs, dccKid } from '../../../gateway/credentials/dcc-trust-input.js';
import { CredentialError } from '../../../gateway/credentials/errors.js';
import { makeCert, type MadeCert } from '../credentials/dcc-certs.js';

type Made = MadeCert;

let a: Made;
let b: Made;
let dir: string;

beforeAll(() => {
  a = makeCert('dsc-a');
  b = makeCert('dsc-b');
});
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dcc-trust-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const put = (name: string, data: string | Buffer) => writeFile(path.join(dir, name), data);
const kidOf = (der: Buffer) => createHash('sha256').update(der).digest().subarray(0, 8).toString('base64');

async function loadError(): Promise<CredentialError> {
  const error: unknown = await loadDccTrustDir(dir).catch((e: unknown) => e);
  if (!(error instanceof CredentialError)) throw new Error(`expected a CredentialError, got ${String(error)}`);
  return error;
}

describe('loadDccTrustDir', () => {
  it('reads DER and PEM files in name order, kid = base64 of the first 8 bytes of SHA-256 of the DER, and leaves other files alone', async () => {
    await put('b.pem', b.pem);
    await put('a.der', a.der);
    await put('README.md', '# DSCs of the countries we accept');
    const entries = await loadDccTrustDir(dir);
    expect(entries).toEqual([
      { kid: kidOf(a.der), certificate: a.der.toString('base64') },
      { kid: kidOf(b.der), certificate: b.der.toString('base64') },
    ]);
    expect(dccKid(a.der)).toBe(kidOf(a.der));
    expect(Buffer.from(kidOf(a.der), 'base64')).toHaveLength(8);
  });

  it('reads a PEM bundle of several certificates', async () => {
    await put('bundle.crt', `${a.pem}\n${b.pem}`);
    expect((await loadDccTrustDir(dir)).map((e) => e.kid)).toEqual([kidOf(a.der), kidOf(b.der)]);
  });

  it('gives an empty list for an empty folder (no DCC is trusted)', async () => {
    expect(await loadDccTrustDir(dir)).toEqual([]);
  });

  it('refuses a file that is not a certificate, naming it', async () => {
    await put('broken.der', Buffer.from('not a certificate'));
    const err = await loadError();
    expect(err.code).toBe('TRUST_KEY_INVALID');
    expect(err.message).toContain(path.join(dir, 'broken.der'));
    expect(err.message).toMatch(/X\.509/);
  });

  it('refuses a PEM without a certificate block', async () => {
    await put('empty.pem', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
    expect((await loadError()).code).toBe('TRUST_KEY_INVALID');
  });

  it('refuses a private key loudly (TRUST_KEY_PRIVATE)', async () => {
    await put('leak.pem', `${a.pem}${a.keyPem}`);
    const err = await loadError();
    expect(err.code).toBe('TRUST_KEY_PRIVATE');
    expect(err.message).toContain('leak.pem');
  });

  it('refuses the same certificate twice, naming both files', async () => {
    await put('a.der', a.der);
    await put('a-again.pem', a.pem);
    const err = await loadError();
    expect(err.code).toBe('TRUST_KEY_DUPLICATE');
    expect(err.message).toContain('a-again.pem');
    expect(err.message).toContain('a.der');
  });

  it('lists every bad file with readDccTrustDir, keeping the good ones', async () => {
    await put('a.der', a.der);
    await put('x.der', Buffer.from('x'));
    await put('y.pem', 'nothing');
    const read = await readDccTrustDir(dir);
    expect(read.entries.map((e) => e.kid)).toEqual([kidOf(a.der)]);
    expect(read.problems.map((p) => p.code)).toEqual(['TRUST_KEY_INVALID', 'TRUST_KEY_INVALID']);
  });

  it('says TRUST_DIR_UNREADABLE for a folder that does not exist', async () => {
    const missing = path.join(dir, 'nope');
    const read = await readDccTrustDir(missing);
    expect(read.problems[0]?.code).toBe('TRUST_DIR_UNREADABLE');
    expect(read.problems[0]?.message).toContain(missing);
  });

  it('refuses a subfolder named like a certificate', async () => {
    await mkdir(path.join(dir, 'odd.pem'));
    expect((await loadError()).code).toBe('TRUST_KEY_INVALID');
  });
});

describe('checkDccTrustInputs (the dcc-trust update\'s data)', () => {
  const entry = (m: Made) => ({ kid: kidOf(m.der), certificate: m.der.toString('base64') });

  it('accepts certificates with their computed kids', () => {
    expect(checkDccTrustInputs([entry(a), entry(b)])).toEqual([entry(a), entry(b)]);
  });

  it.each([
    ['a kid that is not the certificate\'s', () => [{ ...entry(a), kid: kidOf(b.der) }], 'TRUST_KEY_INVALID', /certificates\[0\].*expected "kid"/],
    ['a certificate that is not base64', () => [{ ...entry(a), certificate: 'not base64!' }], 'TRUST_KEY_INVALID', /base64/],
    ['base64 that is not a certificate', () => [{ kid: 'x', certificate: Buffer.from('hello!').toString('base64') }], 'TRUST_KEY_INVALID', /X\.509/],
    ['an unknown key', () => [{ ...entry(a), issuer: 'AT' }], 'TRUST_KEY_INVALID', /unknown key "issuer"/],
    ['not an object', () => ['x'], 'TRUST_KEY_INVALID', /\{kid, certificate\}/],
    ['the same certificate twice', () => [entry(a), entry(b), entry(a)], 'TRUST_KEY_DUPLICATE', /certificates\[2\]/],
  ])('refuses %s', (_name, data, code, message) => {
    let err: unknown;
    try {
      checkDccTrustInputs(data());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CredentialError);
    expect((err as CredentialError).code).toBe(code);
    expect((err as CredentialError).message).toMatch(message);
  });

  it('reads the certificate files back as the same entries the folder gives', async () => {
    await put('a.pem', a.pem);
    const [fromDir] = await loadDccTrustDir(dir);
    expect(checkDccTrustInputs([fromDir])).toEqual([entry(a)]);
    expect(await readFile(path.join(dir, 'a.pem'), 'utf8')).toBe(a.pem);
  });
});
