// Profile files are read twice at each start (the config check, then the lanes): an
// unchanged file gives the profile it gave before, a changed one is read again, and a file
// that became invalid is reported, not hidden behind what it said before.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfileFile, shippedProfilesDir } from '../../../gateway/config/profiles.js';
import { ProfileDocumentError } from '../../../gateway/policy/profile-document.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function copyOfShipped(name: string): string {
  dir = mkdtempSync(path.join(tmpdir(), 'profiles-'));
  const file = path.join(dir, `${name}.yaml`);
  copyFileSync(path.join(shippedProfilesDir(), `${name}.yaml`), file);
  return file;
}

describe('profile files read more than once', () => {
  it('gives the same frozen profile for an unchanged file', () => {
    const file = copyOfShipped('mine-entrance');
    const first = loadProfileFile(file);
    const again = loadProfileFile(file);
    expect(again.profile).toBe(first.profile);
    expect(again.hash).toBe(first.hash);
    expect(Object.isFrozen(again.profile)).toBe(true);
  });

  it('reads a changed file again', () => {
    const file = copyOfShipped('mine-entrance');
    const first = loadProfileFile(file);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^name: .*$/m, 'name: mine-entrance-2'));
    const changed = loadProfileFile(file);
    expect(changed.profile.name).toBe('mine-entrance-2');
    expect(changed.hash).not.toBe(first.hash);
  });

  it('reports a file that became invalid', () => {
    const file = copyOfShipped('mine-entrance');
    loadProfileFile(file);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nunknownRule: 1\n`);
    expect(() => loadProfileFile(file)).toThrow(ProfileDocumentError);
  });
});
