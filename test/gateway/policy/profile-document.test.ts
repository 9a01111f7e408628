import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, parseConfig } from '../../../gateway/config/load.js';
import { loadProfile, loadProfileFile, profileHash, resolveLaneProfiles } from '../../../gateway/config/profiles.js';
import { ProfileDocumentError } from '../../../gateway/policy/profile-document.js';
import { MINE_ENTRANCE, validateProfile } from '../../../gateway/policy/profiles.js';
import { freshDir, removeDirs } from '../store/helpers.js';
import { PROFILE_NAMES, PROFILES_DIR, SHIPPED } from './shipped.js';

const mineDoc = (): Record<string, unknown> => parse(readFileSync(path.join(PROFILES_DIR, 'mine-entrance.yaml'), 'utf8')) as Record<string, unknown>;

function problems(data: unknown): { path: string; message: string }[] {
  try {
    loadProfile(data, 'test.yaml');
  } catch (err) {
    if (err instanceof ProfileDocumentError) return [...err.issues];
    throw err;
  }
  return [];
}

afterEach(removeDirs);
const tempDir = (): string => freshDir('profiles-');

describe('shipped checkpoint profiles', () => {
  it('ships exactly the seven kinds of post and access-only, each valid and named after its file', () => {
    const files = readdirSync(PROFILES_DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual([...PROFILE_NAMES, 'access-only'].map((n) => `${n}.yaml`).sort());
    for (const name of PROFILE_NAMES) {
      expect(SHIPPED[name].profile.name).toBe(name);
      expect(validateProfile(SHIPPED[name].profile)).toEqual([]);
      expect(SHIPPED[name].hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('reproduces the built-in mine entrance rules exactly from mine-entrance.yaml', () => {
    expect(SHIPPED['mine-entrance'].profile).toStrictEqual(MINE_ENTRANCE);
    expect(SHIPPED['mine-entrance'].hash).toBe(profileHash(MINE_ENTRANCE));
  });

  it('gives every shipped profile a different hash', () => {
    const hashes = new Set(PROFILE_NAMES.map((n) => SHIPPED[n].hash));
    expect(hashes.size).toBe(PROFILE_NAMES.length);
  });

  it('keeps the hash when only comments, descriptions or key order change', () => {
    const doc = mineDoc();
    const reordered = { rules: doc.rules, name: doc.name, description: { zh: '另一种说明', en: 'other words' } };
    expect(loadProfile(reordered, 'x').hash).toBe(SHIPPED['mine-entrance'].hash);
  });

  it('changes the hash when a rule parameter changes', () => {
    const doc = mineDoc();
    const rules = doc.rules as Record<string, Record<string, unknown>>;
    const stricter = { ...doc, rules: { ...rules, test: { ...rules.test, windowHours: 24 } } };
    expect(loadProfile(stricter, 'x').hash).not.toBe(SHIPPED['mine-entrance'].hash);
  });
});

describe('profile documents', () => {
  it('lists every problem at once, each with its key path and what was expected', () => {
    const doc = mineDoc();
    const rules = doc.rules as Record<string, Record<string, unknown>>;
    const bad = {
      ...doc,
      colour: 'blue',
      rules: {
        ...rules,
        test: { enforce: 'maybe' },
        watchlist: { enforce: 'soft' },
        category: { enforce: 'hard', allowed: ['employee', 'alien'] },
      },
      categories: { vendor: { test: { windowHours: -1 } } },
    };
    const found = problems(bad);
    const paths = found.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '',
        'rules.test.enforce',
        'rules.test.windowHours',
        'rules.watchlist.enforce',
        'rules.category.allowed[1]',
        'categories.vendor.test.windowHours',
      ]),
    );
    expect(found.find((p) => p.path === '')?.message).toContain('colour');
    expect(found.find((p) => p.path === 'rules.test.enforce')?.message).toContain('hard');
    expect(found.find((p) => p.path === 'rules.watchlist.enforce')?.message).toMatch(/expected hard: this rule cannot be soft/);
    expect(found.find((p) => p.path === 'rules.test.windowHours')?.message).toMatch(/expected a number of hours/);
  });

  it('names the document key when a cross-rule check fails after compiling', () => {
    const doc = mineDoc();
    const rules = doc.rules as Record<string, Record<string, unknown>>;
    const found = problems({ ...doc, rules: { ...rules, temperature: { ...rules.temperature, feverThreshold: 44 } } });
    expect(found).toEqual([{ path: 'rules.temperature.feverThreshold', message: expect.stringContaining('THRESHOLD_OUTSIDE_PLAUSIBLE') }]);
  });

  it('refuses a temperature in Fahrenheit', () => {
    const doc = mineDoc();
    const rules = doc.rules as Record<string, Record<string, unknown>>;
    const found = problems({ ...doc, rules: { ...rules, temperature: { ...rules.temperature, feverThreshold: 99.1 } } });
    expect(found.map((p) => p.path)).toEqual(['rules.temperature.feverThreshold']);
    expect(found[0]?.message).toContain('°F');
  });

  it('puts the source in the error message so the file can be found', () => {
    expect(() => loadProfile({ name: 'x' }, 'config/profiles/x.yaml')).toThrow(/PROFILE_DOCUMENT_INVALID: config\/profiles\/x\.yaml: .*problem/);
  });

  it('reports a YAML syntax error with its line', () => {
    const file = path.join(tempDir(), 'broken.yaml');
    writeFileSync(file, 'name: broken\nrules: [\n');
    try {
      loadProfileFile(file);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProfileDocumentError);
      expect((err as ProfileDocumentError).issues[0]?.path).toMatch(/^line \d+, column \d+$/);
    }
  });

  it('compiles per-category overrides of the test window and of enforcement', () => {
    const doc = mineDoc();
    const p = loadProfile(
      { ...doc, categories: { vendor: { test: { windowHours: 24, enforce: 'soft' } }, family: { travel: { enforce: 'soft' } } } },
      'x',
    ).profile;
    expect(p.testWindowHoursByCategory).toEqual({ vendor: 24 });
    expect(p.enforceByCategory).toEqual({ vendor: { test: 'soft' }, family: { travel: 'soft' } });
    expect(p.enforce).toBeUndefined();
  });
});

describe('profiles of the lanes', () => {
  const base = `
site: s
checkpoint: c
dataDir: data
privacy: { pseudonymSecretFile: secret }
trust: { passIssuersDir: trust }
`;
  const lane = (id: string, extra = '') => `  - { id: ${id}, scanner: { type: sim }, thermometer: { type: sim }, relay: { type: sim }${extra} }\n`;

  it('gives each lane its own profile and the others policy.profile', () => {
    const loaded = parseConfig(`${base}policy: { profile: office-area }\nlanes:\n${lane('a')}${lane('b', ', profile: canteen')}`, '/x/gateway.yaml');
    const r = resolveLaneProfiles(loaded);
    expect(r.defaultProfile.profile.name).toBe('office-area');
    expect(r.lanes.get('a')?.profile.name).toBe('office-area');
    expect(r.lanes.get('b')?.profile).toStrictEqual(SHIPPED.canteen.profile);
    expect(r.lanes.get('b')?.hash).toBe(SHIPPED.canteen.hash);
  });

  it('applies policy.overrides to the default profile only, and rehashes it', () => {
    const loaded = parseConfig(
      `${base}policy: { profile: mine-entrance, overrides: { testWindowHours: 24 } }\nlanes:\n${lane('a')}${lane('b', ', profile: market')}`,
      '/x/gateway.yaml',
    );
    const r = resolveLaneProfiles(loaded);
    expect(r.lanes.get('a')?.profile.testWindowHours).toBe(24);
    expect(r.lanes.get('a')?.hash).not.toBe(SHIPPED['mine-entrance'].hash);
    expect(r.lanes.get('b')?.profile.testWindowHours).toBe(48);
  });

  it('defaults to the mine entrance when the config names no profile', () => {
    const r = resolveLaneProfiles(parseConfig(`${base}lanes:\n${lane('a')}`, '/x/gateway.yaml'));
    expect(r.lanes.get('a')?.profile).toStrictEqual(MINE_ENTRANCE);
  });

  it('refuses a profile that has no file, and a file whose name differs, listing both', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'mine-entrance.yaml'), readFileSync(path.join(PROFILES_DIR, 'canteen.yaml')));
    const loaded = parseConfig(
      `${base}policy: { profilesDir: ${JSON.stringify(dir)} }\nlanes:\n${lane('a')}${lane('b', ', profile: nowhere')}`,
      '/x/gateway.yaml',
    );
    try {
      resolveLaneProfiles(loaded);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as ConfigError).problems.join('\n');
      expect(msg).toContain('name: expected "mine-entrance"');
      expect(msg).toContain(`policy profile "nowhere": expected a file ${path.join(dir, 'nowhere.yaml')}`);
    }
  });
});
