#!/usr/bin/env node
// Part of `npm run build`, after tsc: the gateway process as one CommonJS file with a V8
// code cache (dist/gateway/bundle/), which dist/gateway/main.js runs instead of the ~600
// modules when it is current (gateway/boot/bundle-loader.ts, docs/footprint.md).
// Native addons and what is loaded only on demand (aedes, pino-pretty) stay outside.
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { rolldown } from 'rolldown';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist/gateway');
const outDir = path.join(dist, 'bundle');
const EXTERNAL = [/^node:/, 'better-sqlite3', 'serialport', /^@serialport\//, 'node-hid', 'sd-notify', 'pino-pretty', 'aedes'];

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const build = await rolldown({ input: path.join(dist, 'boot/bundle-entry.js'), platform: 'node', external: EXTERNAL, logLevel: 'warn' });
// Minified without renaming or rewriting anything (whitespace and comments only): V8 keeps
// the bundle's source in the heap for as long as the process runs; 3.1 → 2.3 MB gave 2 MB
// less RSS (docs/footprint.md). Names stay, so stack traces still read.
const { output } = await build.write({ file: path.join(outDir, 'gateway.cjs'), format: 'cjs', codeSplitting: false, minify: { compress: false, mangle: false } });
await build.close();
const chunk = output.find((o) => o.type === 'chunk');
if (!chunk) throw new Error('rolldown wrote no chunk');
// Node 20 runs no import() inside a vm.Script (it wants --experimental-vm-modules): the
// bundle's import() of what stays outside goes through __bundleImport, which the loader
// passes in (an import() of the loader's own ES module).
const code = readFileSync(path.join(outDir, 'gateway.cjs'), 'utf8');
let rewritten = 0;
const out = code.replace(/(?<![\w$.])import\((["'`])([^"'`./][^"'`]*)\1\)/g, (_m, q, name) => {
  rewritten++;
  return `__bundleImport(${q}${name}${q})`;
});
const uncommented = out.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
const left = /(?<![\w$.])import\(\s*(?!["'`]\.)/.exec(uncommented);
if (left) throw new Error(`bundle: an import() the loader cannot serve is left: ${uncommented.slice(left.index, left.index + 60)}`);
writeFileSync(path.join(outDir, 'gateway.cjs'), out);
console.log(`bundle: ${chunk.moduleIds.length} modules, ${(out.length / 1e6).toFixed(1)} MB, ${rewritten} import() of outside packages`);
// Our own modules (not node_modules): main.js falls back to the modules when one is newer.
const inputs = chunk.moduleIds.filter((id) => id.startsWith(path.join(root, 'dist') + path.sep)).map((id) => path.relative(outDir, id));
writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify({ inputs }, null, 1)}\n`);

// The code cache: compile the bundle, initialise every module (nothing starts), and keep
// what V8 compiled. V8 takes it only under the same node and flags, as `npm start` runs.
const { loadBundle, bundleFiles } = await import(path.join(dist, 'boot/bundle-loader.js'));
const loaded = loadBundle(outDir, { useCache: false, env: {} });
if (!loaded.bundle) throw new Error(`bundle not loadable: ${loaded.why}`);
await loaded.bundle.initAll();
const files = bundleFiles(outDir);
writeFileSync(files.cache, loaded.script.createCachedData());
// The bundle must stay newer than every input (they were all written before it).
const now = new Date();
utimesSync(files.code, now, now);
process.exit(0);
