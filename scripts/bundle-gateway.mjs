#!/usr/bin/env node
// Part of `npm run build`, after tsc: the gateway process as one CommonJS file with a V8
// code cache (dist/gateway/bundle/), which dist/gateway/main.js runs instead of the ~600
// modules when it is current (gateway/boot/bundle-loader.ts, docs/footprint.md).
// Native addons and what is loaded only on demand (aedes, pino-pretty) stay outside.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
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
// less RSS (docs/footprint.md). Names stay, so stack traces still read. ASCII only (\u
// escapes): one character above U+00FF (the Chinese texts) made V8 keep the whole 2.2 M
// characters as a two-byte string, 4.4 MB of heap instead of 2.6.
const { output } = await build.write({
  file: path.join(outDir, 'gateway.cjs'),
  format: 'cjs',
  codeSplitting: false,
  minify: { compress: false, mangle: false },
  charset: 'ascii',
});
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
const { BUNDLE_WRAPPER } = await import(path.join(dist, 'boot/bundle-loader.js'));
// Written wrapped, as V8 compiles it: the loader then compiles the file's text as it is
// (bundle-loader.ts, wrappedSource).
writeFileSync(path.join(outDir, 'gateway.cjs'), `${BUNDLE_WRAPPER[0]}${out}${BUNDLE_WRAPPER[1]}`);
console.log(`bundle: ${chunk.moduleIds.length} modules, ${(out.length / 1e6).toFixed(1)} MB, ${rewritten} import() of outside packages`);
// Our own modules (not node_modules): main.js falls back to the modules when one is newer.
const inputs = chunk.moduleIds.filter((id) => id.startsWith(path.join(root, 'dist') + path.sep)).map((id) => path.relative(outDir, id));
writeFileSync(path.join(outDir, 'manifest.json'), `${JSON.stringify({ inputs }, null, 1)}\n`);

// The code cache: what V8 compiled during a real start of the bundle (bundle-cache-start.mjs),
// so the functions the start runs come compiled too, not only the modules' top level
// (docs/footprint.md). V8 takes it only under the same node and flags, as `npm start` runs.
const { loadBundle, bundleFiles } = await import(path.join(dist, 'boot/bundle-loader.js'));
const files = bundleFiles(outDir);
const why = await cacheFromStart(files.cache);
if (why !== null) {
  // Still a cache, only a smaller one: compile the bundle and initialise every module (nothing starts).
  console.warn(`bundle: code cache from module initialisation only (the start for the cache failed: ${why})`);
  const loaded = loadBundle(outDir, { useCache: false, env: {} });
  if (!loaded.bundle) throw new Error(`bundle not loadable: ${loaded.why}`);
  await loaded.bundle.initAll();
  writeFileSync(files.cache, loaded.script.createCachedData());
}
// The bundle must stay newer than every input (they were all written before it).
const now = new Date();
utimesSync(files.code, now, now);
process.exit(0);

/**
 * Start the bundled gateway in a child on a configuration of its own (two simulated lanes
 * and the demo material; a scratch data folder, a free HTTP port and an embedded broker on
 * a free loopback port: no device, broker or file outside the child is touched, whatever
 * config/gateway.yaml says on this machine) and let it write the cache at its ready line.
 * Null when it did, else why not.
 */
async function cacheFromStart(cacheFile) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'bundle-cache-'));
  try {
    const demo = (p) => JSON.stringify(path.join(root, 'config', p));
    const config = path.join(scratch, 'gateway.yaml');
    writeFileSync(
      config,
      [
        'demo: true',
        'site: bundle-cache',
        'checkpoint: build',
        `dataDir: ${JSON.stringify(path.join(scratch, 'data'))}`,
        'http: { host: 127.0.0.1, port: 0 }',
        `mqtt: { url: "mqtt://127.0.0.1:${await freePort()}", embeddedFallback: true }`,
        `privacy: { pseudonymSecretFile: ${demo('demo/pseudonym.secret')} }`,
        `trust: { passIssuersDir: ${demo('trust')} }`,
        `central: { updateKeysDir: ${demo('central')} }`,
        'policy: { profile: mine-entrance }',
        'lanes:',
        ...['in-1', 'out-1'].map((id) => `  - { id: ${id}, scanner: { type: sim }, thermometer: { type: sim }, relay: { type: sim } }`),
        '',
      ].join('\n'),
    );
    const env = { ...process.env };
    for (const k of ['GATEWAY_BUNDLE', 'NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'MQTT_URL', 'HTTP_PORT', 'DATA_DIR']) delete env[k];
    Object.assign(env, { GATEWAY_CONFIG: config, LOG_FORMAT: 'json', GATEWAY_SETTLE_MEMORY: 'off' });
    const r = spawnSync(process.execPath, [path.join(root, 'scripts/bundle-cache-start.mjs'), outDir, cacheFile], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.status === 0) return null;
    const said = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.trim().split('\n').slice(-5).join(' | ');
    return `${r.error ? r.error.message : `exit ${r.status ?? r.signal}`}: ${said}`;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
