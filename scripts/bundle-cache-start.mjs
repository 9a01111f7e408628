#!/usr/bin/env node
// Part of scripts/bundle-gateway.mjs, run by it in a child process: start the bundled
// gateway for real (the caller's environment: the demo config, a scratch data folder, a
// free port, a loopback broker of its own) and, once it is ready, write what V8 compiled
// as the bundle's code cache. A cache made after `initAll` alone holds the modules' top
// level only; every function the start then runs (config check, store, link, HTTP) was
// compiled again from source at each start. Usage: bundle-cache-start.mjs <bundle dir> <cache file>
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
// Resolves once the gateway has logged "ready" (a failed start exits the process).
await loaded.bundle.run();
writeFileSync(out, loaded.script.createCachedData());
process.exit(0);
