// The whole configuration check (config check and start-up): every problem of the file,
// the files and folders it names and its profiles in one run, each at file:line.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../../gateway/config/check.js';
import { didYouMean } from '../../../gateway/config/did-you-mean.js';
import { formatProblem } from '../../../gateway/config/load.js';
import { generateIssuerKeys } from '../../../gateway/credentials/index.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
// A site's own secret and issuer key: the demo's are refused without `demo: true`.
const OWN = mkdtempSync(path.join(tmpdir(), 'cfg-check-own-'));
const SECRET = path.join(OWN, 'pseudonym.secret');
writeFileSync(SECRET, `${randomBytes(32).toString('hex')}\n`);
const TRUST = path.join(OWN, 'trust');
mkdirSync(TRUST);
writeFileSync(path.join(TRUST, 'site-issuer-1.jwk.json'), JSON.stringify((await generateIssuerKeys('site-issuer-1')).publicJwk));

/** Writes numbered YAML lines into a fresh folder; returns the folder and the file. */
function yamlFile(lines: string[]): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cfg-check-'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { dir, file };
}

const LANE = ['lanes:', '  - id: in-1', '    scanner: { type: sim }', '    thermometer: { type: sim }', '    relay: { type: sim }'];

async function problemsOf(lines: string[], env: Record<string, string> = {}): Promise<{ file: string; dir: string; lines: string[] }> {
  const { dir, file } = yamlFile(lines);
  const result = await checkConfig(file, env);
  return { file, dir, lines: result.problems.map(formatProblem) };
}

describe('did you mean', () => {
  it('suggests the closest key for a slip and nothing for a word far from every key', () => {
    expect(didYouMean('hots', ['host', 'port', 'allowedHosts'])).toBe('host');
    expect(didYouMean('pseudonym_secret_file', ['pseudonymSecretFile'])).toBe('pseudonymSecretFile');
    expect(didYouMean('mine-entrence', ['mine-entrance', 'market', 'canteen'])).toBe('mine-entrance');
    expect(didYouMean('colour', ['host', 'port', 'kioskResetMs'])).toBeNull();
  });
});

describe('configuration check', () => {
  it('lists a schema problem, a bad secret, bad trust keys, a data dir under a file and a profile typo in one run, each on its line', async () => {
    const keys = await generateIssuerKeys('office-x');
    const { dir, file } = yamlFile(['placeholder']);
    const trust = path.join(dir, 'trust');
    mkdirSync(trust);
    writeFileSync(path.join(trust, 'a-private.jwk.json'), JSON.stringify(keys.privateJwk));
    writeFileSync(path.join(trust, 'b-broken.jwk.json'), '{ not json');
    writeFileSync(path.join(trust, 'c-good.jwk.json'), JSON.stringify(keys.publicJwk));
    writeFileSync(path.join(dir, 'short.secret'), 'abcd\n');
    writeFileSync(path.join(dir, 'a-file'), '');
    writeFileSync(
      file,
      [
        'site: s1', // 1
        'checkpoint: c1', // 2
        'logLevel: infoo', // 3
        'dataDir: a-file/data', // 4
        'privacy: { pseudonymSecretFile: short.secret }', // 5
        'trust: { passIssuersDir: trust }', // 6
        'policy:', // 7
        '  profile: mine-entrence', // 8
        ...LANE, // 9-13
      ].join('\n'),
    );
    const result = await checkConfig(file, {});
    expect(result.loaded).toBeNull();
    expect(result.problems.map(formatProblem)).toEqual([
      `${file}:3: logLevel: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"; did you mean "info"?`,
      `${file}:4: dataDir: cannot create ${dir}/a-file/data: a part of the path is not a folder (ENOTDIR)`,
      `${file}:5: privacy.pseudonymSecretFile: ${dir}/short.secret: expected the pseudonym secret as hex, at least 32 bytes (64 hex digits, e.g. from \`openssl rand -hex 32\`); found 4 characters`,
      expect.stringMatching(new RegExp(`^${file}:6: trust\\.passIssuersDir: \\[TRUST_KEY_PRIVATE\\] ${trust}/a-private\\.jwk\\.json: is a private key`)),
      expect.stringMatching(new RegExp(`^${file}:6: trust\\.passIssuersDir: \\[TRUST_KEY_INVALID\\] ${trust}/b-broken\\.jwk\\.json: expected JSON`)),
      expect.stringMatching(new RegExp(`^${file}:8: policy\\.profile: no profile "mine-entrence" .*; did you mean "mine-entrance"\\?$`)),
    ]);
  });

  it('reports an unknown key on its own line, not its parent\'s, with the keys allowed there', async () => {
    const { file, lines } = await problemsOf([
      'site: s1', // 1
      'checkpoint: c1', // 2
      'dataDir: data', // 3
      'http:', // 4
      '  port: 8080', // 5
      '  hots: 127.0.0.1', // 6
      `privacy: { pseudonymSecretFile: ${SECRET} }`, // 7
      `trust: { passIssuersDir: ${TRUST} }`, // 8
      'lanes:', // 9
      '  - id: in-1', // 10
      '    scanner: { type: gm65, path: /dev/ttyS0, chek: crc }', // 11
      '    thermometer: { type: sim, colour: blue }', // 12
      '    relay: { type: sim }', // 13
    ]);
    expect(lines).toEqual([
      `${file}:6: http.hots: unknown key; did you mean "host"?`,
      `${file}:11: lanes[0].scanner.chek: unknown key; did you mean "check"?`,
      `${file}:12: lanes[0].thermometer.colour: unknown key; expected one of type`,
    ]);
  });

  it('still checks the schema and the files after a YAML syntax error, listing the syntax error first', async () => {
    const { file, lines } = await problemsOf([
      'site: s1', // 1
      'checkpoint: c1', // 2
      'checkpoint: c2', // 3: a repeated key
      'dataDir: data', // 4
      'privacy: { pseudonymSecretFile: no-such.secret }', // 5
      `trust: { passIssuersDir: ${TRUST} }`, // 6
      'http: { port: 99999 }', // 7
      ...LANE,
    ]);
    expect(lines[0]).toMatch(new RegExp(`^${file}:3:1: Map keys must be unique`));
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${file}:5: privacy\\.pseudonymSecretFile: cannot read the pseudonym secret .*no-such\\.secret: no such file or folder \\(ENOENT\\)$`)),
      expect.stringMatching(new RegExp(`^${file}:7: http\\.port: Too big`)),
    ]);
  });

  it('names the profile file and line of a bad profile, a zone lane that does not exist, and bad overrides', async () => {
    const { dir, file } = yamlFile(['placeholder']);
    mkdirSync(path.join(dir, 'profiles'));
    const profile = readFileSync(path.join(ROOT, 'config/profiles/canteen.yaml'), 'utf8');
    const bad = profile.replace(/windowHours: \d+/, 'windowHours: -1');
    writeFileSync(path.join(dir, 'profiles/canteen.yaml'), bad);
    const badLine = bad.split('\n').findIndex((l) => l.includes('windowHours: -1')) + 1;
    writeFileSync(
      file,
      [
        'site: s1', // 1
        'checkpoint: c1', // 2
        'dataDir: data', // 3
        `privacy: { pseudonymSecretFile: ${SECRET} }`, // 4
        `trust: { passIssuersDir: ${TRUST} }`, // 5
        'policy:', // 6
        '  profile: canteen', // 7
        '  profilesDir: profiles', // 8
        '  zones:', // 9
        '    - id: hall', // 10
        '      entryLanes: [in-1, in-2]', // 11
        ...LANE,
      ].join('\n'),
    );
    const lines = (await checkConfig(file, {})).problems.map(formatProblem);
    expect(lines).toEqual([
      `${file}:11: policy.zones[0].entryLanes[1]: expected the id of a lane in lanes[], got "in-2"; did you mean "in-1"?`,
      `${dir}/profiles/canteen.yaml:${badLine}: rules.test.windowHours: expected more than 0 hours`,
    ]);
  });

  it('refuses TLS files that are not PEM and a client key that does not belong to the certificate', async () => {
    const { dir, file } = yamlFile(['placeholder']);
    for (const name of ['a', 'b']) {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '1'], { cwd: dir, stdio: 'ignore' });
    }
    writeFileSync(path.join(dir, 'ca.pem'), 'not a certificate\n');
    writeFileSync(
      file,
      [
        'site: s1', // 1
        'checkpoint: c1', // 2
        'dataDir: data', // 3
        `privacy: { pseudonymSecretFile: ${SECRET} }`, // 4
        `trust: { passIssuersDir: ${TRUST} }`, // 5
        'mqtt:', // 6
        '  url: mqtts://broker.example:8883', // 7
        '  tls:', // 8
        '    ca: ca.pem', // 9
        '    cert: a.crt', // 10
        '    key: b.key', // 11
        ...LANE,
      ].join('\n'),
    );
    const lines = (await checkConfig(file, {})).problems.map(formatProblem);
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${file}:9: mqtt\\.tls\\.ca: ${dir}/ca\\.pem: expected a PEM certificate`)),
      `${file}:11: mqtt.tls.key: ${dir}/b.key: not the private key of the certificate in mqtt.tls.cert`,
    ]);
  });

  it('names DATA_DIR when the data dir from the environment cannot be used', async () => {
    const { dir, lines } = await problemsOf(['site: s1', 'checkpoint: c1', 'dataDir: data', `privacy: { pseudonymSecretFile: ${SECRET} }`, `trust: { passIssuersDir: ${TRUST} }`, ...LANE], {
      DATA_DIR: '/etc/passwd/data',
    });
    expect(lines).toEqual([`${dir}/gateway.yaml: environment DATA_DIR: cannot create /etc/passwd/data: a part of the path is not a folder (ENOTDIR)`]);
  });

  it('passes the demo configuration, noting only that it uses the demo material', async () => {
    const result = await checkConfig(path.join(ROOT, 'config/gateway.yaml'), {});
    expect(result.problems).toEqual([]);
    expect(result.notes).toEqual([
      'demo: true: using the demo pseudonym secret, the demo pass issuer (demo-issuer-1), the demo central office (demo-central-1), published with the source code; never for a real gate',
    ]);
    expect(result.loaded?.config.checkpoint).toBe('mine-entrance');
  });

  it('notes an empty pass-issuer folder without refusing it', async () => {
    const { dir, file } = yamlFile(['placeholder']);
    mkdirSync(path.join(dir, 'trust'));
    writeFileSync(file, ['site: s1', 'checkpoint: c1', 'dataDir: data', `privacy: { pseudonymSecretFile: ${SECRET} }`, 'trust: { passIssuersDir: trust }', ...LANE].join('\n'));
    const result = await checkConfig(file, {});
    expect(result.problems).toEqual([]);
    expect(result.notes).toEqual([`${dir}/trust holds no *.jwk.json: every pass will be refused (PASS_UNKNOWN_KEY); staff badges still work`]);
  });
});
