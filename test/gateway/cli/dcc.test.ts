// `dcc verify` as the acceptance runs it: the built CLI, a QR text or JSON lines on stdin.
// A refused certificate is exit 0 with valid:false; usage errors exit 2 with a message.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, scratchDirs } from '../../integration/helpers.js';
import { issueDcc, makeDsc, sampleHcert, trustEntry } from '../../fixtures/dcc-issuer.js';

const DAY = 86_400_000;
const NOW = Date.now();
const dir = scratchDirs()('gw-dcc-cli-');
const dsc = makeDsc({ alg: 'ES256', eku: ['vaccination'], notBefore: NOW - 30 * DAY, notAfter: NOW + 365 * DAY });
const trustFile = path.join(dir, 'trust.json');
writeFileSync(trustFile, JSON.stringify([trustEntry(dsc)]));
const good = issueDcc({ dsc, hcert: sampleHcert('vaccination'), iat: NOW - DAY, exp: NOW + 100 * DAY, iss: 'AT' });

function cli(args: string[], input: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['dist/gateway/cli/main.js', 'dcc', 'verify', ...args], { cwd: ROOT, input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('dcc verify (single)', () => {
  it('prints one JSON result for a valid certificate, verified now by default; the trailing newline is not part of the text', () => {
    const r = cli(['--trust', trustFile, '--json'], `${good}\r\n`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ valid: true, stage: null, code: 'DCC_VALID', kid: dsc.kid, type: 'vaccination', issuer: 'AT' });
    expect(r.out).not.toContain('ERIKA');
  });

  it('reports a refused certificate with exit 0, its stage and code', () => {
    const r = cli(['--trust', trustFile, '--at', new Date(NOW + 200 * DAY).toISOString(), '--json'], good);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ valid: false, stage: 'expired', code: 'DCC_EXPIRED', kid: dsc.kid, type: 'vaccination' });
  });

  it('includes the payload only with --payload', () => {
    const r = cli(['--trust', trustFile, '--json', '--payload'], good);
    expect(JSON.parse(r.out).hcert).toMatchObject({ nam: { fnt: 'MUSTERFRAU' } });
  });

  it('prints a sentence without --json', () => {
    const r = cli(['--trust', trustFile], 'HC1:***');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^invalid at base45: DCC_BASE45_INVALID/);
  });

  it.each([
    ['no --trust', ['--json'], /--trust <trust.json> is required/],
    ['an unreadable --at', ['--trust', 'TRUST', '--at', 'tomorrow'], /--at: expected an ISO 8601 time/],
    ['a missing trust file', ['--trust', '/nonexistent/trust.json'], /--trust: cannot read \/nonexistent\/trust.json: ENOENT/],
  ])('exits 2 with a message for %s', (_what, args, message) => {
    const r = cli(args.map((a) => (a === 'TRUST' ? trustFile : a)), good);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('exits 2 naming the trust entry that is not a certificate', () => {
    const bad = path.join(dir, 'bad-trust.json');
    writeFileSync(bad, JSON.stringify([trustEntry(dsc), { kid: 'AAAAAAAAAAA=', certificate: Buffer.from('not a certificate').toString('base64') }]));
    const r = cli(['--trust', bad, '--json'], good);
    expect(r.code).toBe(2);
    expect(r.err).toContain('[TRUST_KEY_INVALID] DCC trust entry 1: certificate: not a DER X.509 certificate');
  });
});

describe('dcc verify --batch', () => {
  it('prints one result per input line, in order, each with its own trust and time', () => {
    const lines = [
      { prefix: good, trust: [trustEntry(dsc)], at: new Date(NOW).toISOString() },
      { prefix: good, trust: [], at: new Date(NOW).toISOString() },
      { prefix: good, trust: [trustEntry(dsc)], at: new Date(NOW - 2 * DAY).toISOString() },
    ];
    const r = cli(['--batch'], lines.map((l) => JSON.stringify(l)).join('\n'));
    expect(r.code).toBe(0);
    const out = r.out.trim().split('\n').map((l) => JSON.parse(l) as { valid: boolean; code: string });
    expect(out.map((o) => o.code)).toEqual(['DCC_VALID', 'DCC_KID_UNKNOWN', 'DCC_NOT_YET_VALID']);
  });

  it('answers an unusable line with an error line in its place and exits 2 at the end', () => {
    const r = cli(['--batch'], ['{"prefix": 1}', 'not json', JSON.stringify({ prefix: good, trust: [trustEntry(dsc)] })].join('\n'));
    expect(r.code).toBe(2);
    const out = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out).toHaveLength(3);
    expect(out[0]).toEqual({ error: 'line 1: "prefix" must be the QR text as a string' });
    expect(out[1]).toEqual({ error: 'line 2: not JSON' });
    expect(out[2]).toMatchObject({ valid: true });
    expect(r.err).toContain('2 unusable input line(s)');
  });

  it('takes the DSC of a conformance-case line ({prefix, kid, certificate, at}) when it has no "trust"', () => {
    const line = { prefix: good, kid: dsc.kid, certificate: dsc.certificate, at: new Date(NOW).toISOString() };
    const r = cli(['--batch'], `${JSON.stringify(line)}\n${JSON.stringify({ ...line, certificate: null })}\n`);
    expect(r.out.trim().split('\n').map((l) => (JSON.parse(l) as { code: string }).code)).toEqual(['DCC_VALID', 'DCC_KID_UNKNOWN']);
  });

  const cases = path.resolve(ROOT, '../shared/dcc/public-cases.jsonl');
  it.skipIf(!existsSync(cases))('gives the official cases their expected verdicts through the command line (skipped without ../shared/dcc)', () => {
    const all = readFileSync(cases, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prefix: string; certificate: string | null; kid: string; at: string; expect: { verdict: string; disputed?: unknown } });
    const input = all.map((c) => JSON.stringify({ prefix: c.prefix, trust: c.certificate === null ? [] : [{ kid: c.kid, certificate: c.certificate }], at: c.at })).join('\n');
    const r = cli(['--batch'], input);
    expect(r.code).toBe(0);
    const out = r.out.trim().split('\n').map((l) => JSON.parse(l) as { valid: boolean });
    expect(out).toHaveLength(all.length);
    const wrong = all.filter((c, i) => c.expect.disputed === undefined && out[i]?.valid !== (c.expect.verdict === 'valid'));
    expect(wrong.map((c) => c.prefix.slice(0, 12))).toEqual([]);
  });
});
