#!/usr/bin/env node
// Rebuild dist/ only when a source file is newer than the build, so `npm start` stays
// fast (the whole type-checked build takes about a second) yet never runs stale code.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const marker = path.join(root, 'dist/gateway/main.js');
const sources = ['gateway', 'central', 'drivers', 'shared', 'kiosk-ui', 'office-ui', 'bench'];
const configs = ['tsconfig.json', 'tsconfig.build.json', 'kiosk-ui/tsconfig.json', 'office-ui/tsconfig.json', 'package.json'];

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(p));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(p).mtimeMs);
  }
  return latest;
}

let built = 0;
try {
  built = statSync(marker).mtimeMs;
} catch {
  // never built
}
const latest = Math.max(
  ...sources.map((d) => newest(path.join(root, d))),
  ...configs.map((f) => statSync(path.join(root, f)).mtimeMs),
);
if (latest > built) {
  process.stderr.write('building (sources changed since the last build)…\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}
