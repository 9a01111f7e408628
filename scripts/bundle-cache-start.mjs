#!/usr/bin/env node
// Part of scripts/bundle-gateway.mjs, run by it in a child process: start the bundled
// gateway for real (the caller's environment: GATEWAY_CONFIG names a configuration of sim
// lanes, a scratch data folder, port 0, a broker of its own) and, at its ready line, write what V8 compiled
// as the bundle's code cache, then exit. A cache made after `initAll` holds every module's
// top level and none of the functions the start runs (config check, store, lanes), which
// were then compiled from source at each start; this one holds what the start up to the
// ready line ran, and nothing of what comes after it (the HTTP app, the link), which would
// only make the cache longer to load before the line. Usage: bundle-cache-start.mjs <bundle dir> <cache file>
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) throw new Error('usage: bundle-cache-start.mjs <bundle dir> <cache file>');
const { loadBundle } = await import(path.resolve(dir, '../boot/bundle-loader.js'));
const loaded = loadBundle(dir, { useCache: false, env: {} });
if (!loaded.bundle) {
  process.stderr.write(`bundle not loadable: ${loaded.why}\n`);
  process.exit(2);
}
await loaded.bundle.earlyOff();
// A failed start exits the process (not 0).
await loaded.bundle.run({
  onReady: () => {
    writeFileSync(out, loaded.script.createCachedData());
    process.exit(0);
  },
});
process.stderr.write('the gateway stopped without a ready line\n');
process.exit(3);
