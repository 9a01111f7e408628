// Dependency direction inside the gateway (docs/architecture): drivers never import the
// gateway, and the pure core (policy, credentials) reaches no driver or I/O module, not even
// through a module in between. shared/ holds what both sides use and imports nothing of ours.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** Our modules a file imports statically (relative specifiers, as repository paths of .ts files). */
function ownImports(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)]
    .map((m) => path.join(path.dirname(file), m[1]!).replace(/\.js$/, '.ts'))
    .filter((f) => existsSync(path.join(ROOT, f)));
}

/** Every module reachable from `start` through static imports, with the path that reached it. */
function closure(start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
    for (const dep of ownImports(f)) {
      if (seen.has(dep)) continue;
      seen.set(dep, [...seen.get(f)!, dep]);
      queue.push(dep);
    }
  }
  return seen;
}

describe('gateway boundaries', () => {
  it('shared/ imports nothing of ours', () => {
    expect(tsFiles('shared').flatMap((f) => ownImports(f).map((i) => `${f} → ${i}`))).toEqual([]);
  });

  it('no driver module imports the gateway', () => {
    const offenders = tsFiles('drivers').flatMap((f) => ownImports(f).filter((i) => i.startsWith('gateway/')).map((i) => `${f} → ${i}`));
    expect(offenders).toEqual([]);
  });

  it('the pure core (policy, credentials) reaches no driver, store, telemetry or HTTP module, directly or indirectly', () => {
    const io = /^(drivers|gateway\/(store|telemetry|http|lane|cli|updates))\//;
    const offenders = [...tsFiles('gateway/policy'), ...tsFiles('gateway/credentials')].flatMap((f) =>
      [...closure(f)].filter(([dep]) => io.test(dep)).map(([, via]) => via.join(' → ')),
    );
    expect(offenders).toEqual([]);
  });
});
