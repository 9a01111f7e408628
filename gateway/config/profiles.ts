// Checkpoint profiles from files: config/profiles/<name>.yaml, one per kind of post.
// Reads and hashes here; validation and compiling are the policy's (profile-document.ts).
// The hash is what the ledger records with every decision: the same rules give the same
// hash whatever the comments or key order, so "which rules decided this" is answerable.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { compileProfileDocument, ProfileDocumentError } from '../policy/profile-document.js';
import { PolicyProfileError, profileFromOverrides } from '../policy/profiles.js';
import type { PolicyProfile } from '../policy/types.js';
import { ConfigError, type LoadedConfig } from './load.js';
import { canonicalJson } from '../../shared/canonical.js';

export interface LoadedProfile {
  profile: PolicyProfile;
  /** sha256 (hex) of the compiled profile in canonical JSON. */
  hash: string;
  /** File path or update label it came from. */
  source: string;
}

/** sha256 of the profile's canonical JSON (keys sorted): equal rules, equal hash. */
export function profileHash(profile: PolicyProfile): string {
  return createHash('sha256').update(canonicalJson(profile)).digest('hex');
}

/**
 * Validate a parsed profile document (an object, e.g. from YAML or the central office's
 * policy update) and compile it. Throws ProfileDocumentError listing every problem.
 */
export function loadProfile(data: unknown, source: string): LoadedProfile {
  const profile = compileProfileDocument(data, source);
  return { profile, hash: profileHash(profile), source };
}

/**
 * The last good result of each file, with the text it came from. The start reads the same
 * files twice, in the config check and then for the lanes: the second read of an unchanged
 * file gives the first's profile (compiled profiles are frozen), not a second YAML parse
 * and validation.
 */
const lastLoaded = new Map<string, { text: string; loaded: LoadedProfile }>();

/** Read, parse and validate one profile file. Throws ProfileDocumentError. */
export function loadProfileFile(file: string): LoadedProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProfileDocumentError(file, [{ path: '', message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  const last = lastLoaded.get(file);
  if (last?.text === text) return last.loaded;
  const loaded = parseProfileFile(file, text);
  lastLoaded.set(file, { text, loaded });
  return loaded;
}

function parseProfileFile(file: string, text: string): LoadedProfile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ProfileDocumentError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: `line ${pos.line}, column ${pos.col}`, message: e.message.split('\n')[0] ?? 'YAML syntax error' };
      }),
    );
  }
  return loadProfile(doc.toJS(), file);
}

/** config/profiles of this installation, found from this module's place (src or dist). */
export function shippedProfilesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'config', 'profiles');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve('config', 'profiles');
    dir = up;
  }
}

/** Every *.yaml in a folder, by name; problems are thrown together. */
export function loadProfileDir(dir: string): Map<string, LoadedProfile> {
  const out = new Map<string, LoadedProfile>();
  const problems: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
    try {
      const p = loadProfileFile(path.join(dir, f));
      out.set(p.profile.name, p);
    } catch (err) {
      if (err instanceof ProfileDocumentError) problems.push(err.message);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ConfigError(dir, problems);
  return out;
}

/**
 * The profile of each lane: the lane's `profile`, else `policy.profile`. Files come from
 * `policy.profilesDir` (relative to the config file) or the shipped config/profiles.
 * `policy.overrides` adjust the default profile only. Throws ConfigError listing every
 * problem (missing file, invalid document, name not matching the file).
 */
export function resolveLaneProfiles(loaded: LoadedConfig): { defaultProfile: LoadedProfile; lanes: Map<string, LoadedProfile> } {
  const { config } = loaded;
  const dir = config.policy.profilesDir ? path.resolve(path.dirname(loaded.file), config.policy.profilesDir) : shippedProfilesDir();
  const problems: string[] = [];
  const byName = new Map<string, LoadedProfile>();
  const wanted = new Set([config.policy.profile, ...config.lanes.flatMap((l) => (l.profile ? [l.profile] : []))]);
  for (const name of wanted) {
    const file = path.join(dir, `${name}.yaml`);
    if (!existsSync(file)) {
      problems.push(`policy profile "${name}": expected a file ${file}`);
      continue;
    }
    try {
      const p = loadProfileFile(file);
      if (p.profile.name !== name) problems.push(`${file}: name: expected "${name}" (the file's name), got "${p.profile.name}"`);
      else byName.set(name, p);
    } catch (err) {
      if (err instanceof ProfileDocumentError) problems.push(err.message);
      else throw err;
    }
  }
  const base = byName.get(config.policy.profile);
  if (base && Object.keys(config.policy.overrides).length > 0) {
    try {
      const profile = profileFromOverrides(config.policy.overrides, base.profile);
      byName.set(config.policy.profile, { profile, hash: profileHash(profile), source: `${base.source} + policy.overrides` });
    } catch (err) {
      if (err instanceof PolicyProfileError) problems.push(...err.issues.map((i) => `policy.overrides.${i.path}: ${i.message}`));
      else throw err;
    }
  }
  const defaultProfile = byName.get(config.policy.profile);
  if (problems.length > 0 || !defaultProfile) throw new ConfigError(loaded.file, problems);
  const lanes = new Map(
    config.lanes.map((l) => {
      const p = byName.get(l.profile ?? config.policy.profile);
      if (!p) throw new Error(`profile of lane ${l.id} missing after validation`);
      return [l.id, p];
    }),
  );
  return { defaultProfile, lanes };
}

const hashes = new WeakMap<PolicyProfile, string>();
/** profileHash, computed once per profile object (profiles are frozen). */
export function cachedProfileHash(profile: PolicyProfile): string {
  let h = hashes.get(profile);
  if (h === undefined) {
    h = profileHash(profile);
    hashes.set(profile, h);
  }
  return h;
}
