// The demo's published keys and secret are refused by content, wherever they lie, unless
// the configuration says `demo: true`; `config check` and the gateway's start-up (exit 78)
// say so with the file and what to do.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../../gateway/config/check.js';
import { DEMO_PUBLIC_KEYS, demoKeyOf, isDemoSecret } from '../../../gateway/config/demo-material.js';
import { formatProblem } from '../../../gateway/config/load.js';
import { generateIssuerKeys } from '../../../gateway/credentials/index.js';
import { secretFromHex } from '../../../gateway/telemetry/pseudonym.js';
import { ROOT, runProcess, tempDir } from '../../integration/helpers.js';

/** Temporary folders of this file, removed after it. */
const made: string[] = [];
function madeDir(prefix: string): string {
  const dir = tempDir(prefix);
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const LANE = ['lanes:', '  - id: in-1', '    scanner: { type: sim }', '    thermometer: { type: sim }', '    relay: { type: sim }'];

/** A site folder whose secret and keys are copies of the demo's under other names. */
function demoCopies(): { dir: string; file: (demoLine: string) => string } {
  const dir = madeDir('cfg-demo-');
  copyFileSync(path.join(ROOT, 'config/demo/pseudonym.secret'), path.join(dir, 'site.secret'));
  mkdirSync(path.join(dir, 'issuers'));
  copyFileSync(path.join(ROOT, 'config/trust/demo-issuer-1.jwk.json'), path.join(dir, 'issuers/health-office.jwk.json'));
  mkdirSync(path.join(dir, 'office'));
  copyFileSync(path.join(ROOT, 'config/central/demo-central-1.jwk.json'), path.join(dir, 'office/office-1.jwk.json'));
  const file = (demoLine: string): string => {
    const f = path.join(dir, 'gateway.yaml');
    writeFileSync(
      f,
      [
        demoLine, // 1
        'site: s1', // 2
        'checkpoint: c1', // 3
        'dataDir: data', // 4
        'privacy: { pseudonymSecretFile: site.secret }', // 5
        'trust: { passIssuersDir: issuers }', // 6
        'central: { updateKeysDir: office }', // 7
        ...LANE,
      ].join('\n'),
    );
    return f;
  };
  return { dir, file };
}

describe('demo material', () => {
  it('knows the committed demo keys and secret by their content', () => {
    const read = (f: string): unknown => JSON.parse(readFileSync(path.join(ROOT, f), 'utf8'));
    expect(demoKeyOf(read('config/trust/demo-issuer-1.jwk.json'))).toBe('the demo pass issuer (demo-issuer-1)');
    expect(demoKeyOf(read('config/central/demo-central-1.jwk.json'))).toBe('the demo central office (demo-central-1)');
    // The private halves carry the same public x.
    expect(demoKeyOf(read('config/demo/issuer-1.private.jwk.json'))).not.toBeNull();
    expect(demoKeyOf(read('config/demo/central-1.private.jwk.json'))).not.toBeNull();
    expect(Object.keys(DEMO_PUBLIC_KEYS)).toHaveLength(2);
    expect(isDemoSecret(secretFromHex(readFileSync(path.join(ROOT, 'config/demo/pseudonym.secret'), 'utf8'))!)).toBe(true);
    expect(isDemoSecret(randomBytes(32))).toBe(false);
  });

  it('does not take a fresh key with the demo kid for the demo key', async () => {
    const { publicJwk } = await generateIssuerKeys('demo-issuer-1');
    expect(demoKeyOf(publicJwk)).toBeNull();
  });

  it('refuses copies of the demo secret and keys under other names, each at its line, naming the file and both ways out', async () => {
    const { dir, file } = demoCopies();
    const f = file('# a real site');
    const result = await checkConfig(f, {});
    expect(result.loaded).toBeNull();
    const lines = result.problems.map(formatProblem);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(
      `${f}:5: privacy.pseudonymSecretFile: ${dir}/site.secret holds the demo pseudonym secret, published with the source code: anyone could map this site's pseudonyms back to staff ids; give the site a secret of its own (\`checkpoint-gateway setup\` does it, docs/install.md), or, for a demo on a bench, add \`demo: true\` at the top of ${f}`,
    );
    expect(lines[1]).toBe(
      `${f}:6: trust.passIssuersDir: ${dir}/issuers/health-office.jwk.json is the demo pass issuer (demo-issuer-1), whose private key is published with the source code: anyone can forge passes this gate admits; remove it from ${dir}/issuers and put the real issuers' public keys there (\`checkpoint-gateway setup\` does it, docs/install.md), or, for a demo on a bench, add \`demo: true\` at the top of ${f}`,
    );
    expect(lines[2]).toMatch(new RegExp(`^${f}:7: central\\.updateKeysDir: ${dir}/office/office-1\\.jwk\\.json is the demo central office \\(demo-central-1\\).*anyone can push updates`));
  });

  it('accepts them with demo: true, with a note', async () => {
    const { file } = demoCopies();
    const result = await checkConfig(file('demo: true'), {});
    expect(result.problems).toEqual([]);
    expect(result.notes).toEqual([
      'demo: true: using the demo pseudonym secret, the demo pass issuer (demo-issuer-1), the demo central office (demo-central-1), published with the source code; never for a real gate',
    ]);
  });

  it('keeps the gateway from starting on demo material without demo: true: exit 78 with the same words', async () => {
    const { file } = demoCopies();
    const f = file('# a real site');
    const { code, stderr } = await runProcess(['dist/gateway/main.js'], { GATEWAY_CONFIG: f, HTTP_PORT: '0' });
    expect(code).toBe(78);
    expect(stderr).toContain(`${f}: invalid configuration (3 problems)`);
    expect(stderr).toContain('holds the demo pseudonym secret');
    expect(stderr).toContain(`add \`demo: true\` at the top of ${f}`);
    expect(stderr).toContain('The gateway did not start.');
  });
});
