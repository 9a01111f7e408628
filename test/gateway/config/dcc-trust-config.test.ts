// `trust.dccSignersDir` in the configuration check: optional; when set, its folder must
// exist and every file in it be a certificate, each problem at the key's line.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../../gateway/config/check.js';
import { formatProblem } from '../../../gateway/config/load.js';
import { generateIssuerKeys } from '../../../gateway/credentials/index.js';

const OWN = mkdtempSync(path.join(tmpdir(), 'cfg-dcc-own-'));
const SECRET = path.join(OWN, 'pseudonym.secret');
writeFileSync(SECRET, `${randomBytes(32).toString('hex')}\n`);
const TRUST = path.join(OWN, 'trust');
mkdirSync(TRUST);
writeFileSync(path.join(TRUST, 'site-issuer-1.jwk.json'), JSON.stringify((await generateIssuerKeys('site-issuer-1')).publicJwk));
const LANE = ['lanes:', '  - id: in-1', '    scanner: { type: sim }', '    thermometer: { type: sim }', '    relay: { type: sim }'];

function config(trustLine: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-dcc-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, ['site: s1', 'checkpoint: c1', 'dataDir: data', `privacy: { pseudonymSecretFile: ${SECRET} }`, trustLine, ...LANE].join('\n'));
  return { dir, file };
}

describe('configuration check: trust.dccSignersDir', () => {
  it('is optional: without it the paths name no DCC folder', async () => {
    const { file } = config(`trust: { passIssuersDir: ${TRUST} }`);
    const result = await checkConfig(file, {});
    expect(result.problems).toEqual([]);
    expect(result.loaded?.paths.dccSignersDir).toBeUndefined();
  });

  it('names a bad certificate file at the key\'s line', async () => {
    const { dir, file } = config(`trust: { passIssuersDir: ${TRUST}, dccSignersDir: dsc }`);
    mkdirSync(path.join(dir, 'dsc'));
    writeFileSync(path.join(dir, 'dsc', 'at.der'), 'not a certificate');
    const result = await checkConfig(file, {});
    expect(result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(new RegExp(`^${file}:5: trust\\.dccSignersDir: \\[TRUST_KEY_INVALID\\] ${dir}/dsc/at\\.der: expected an X\\.509 certificate`)),
    ]);
  });

  it('refuses a folder that does not exist', async () => {
    const { dir, file } = config(`trust: { passIssuersDir: ${TRUST}, dccSignersDir: nowhere }`);
    const result = await checkConfig(file, {});
    expect(result.problems.map(formatProblem)).toEqual([expect.stringContaining(`trust.dccSignersDir: cannot use the folder of EU DCC signer certificates ${dir}/nowhere`)]);
  });

  it('notes an empty folder without refusing it, and resolves the path against the file', async () => {
    const { dir, file } = config(`trust: { passIssuersDir: ${TRUST}, dccSignersDir: dsc }`);
    mkdirSync(path.join(dir, 'dsc'));
    const result = await checkConfig(file, {});
    expect(result.problems).toEqual([]);
    expect(result.notes).toEqual([expect.stringMatching(/dsc holds no DSC certificate .*DCC_UNKNOWN_SIGNER/)]);
    expect(result.loaded?.paths.dccSignersDir).toBe(path.join(dir, 'dsc'));
  });
});
