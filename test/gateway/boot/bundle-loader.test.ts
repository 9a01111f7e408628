// The bundle loader main.ts runs first: a current bundle runs with its code cache; a
// missing, stale or switched-off one leaves the start to the modules; a cache V8 does not
// take still runs the bundle. Bundles here are small real files; the shipped one is
// checked after the build (test/global-setup.ts runs `npm run build`).
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE_WRAPPER, bundleFiles, bundleStaleness, loadBundle } from '../../../gateway/boot/bundle-loader.js';
import { scratchDirs } from '../../integration/helpers.js';

const scratch = scratchDirs();
const ROOT = path.resolve(import.meta.dirname, '../../..');

/** A bundle folder built from one module `../src/a.js`, the module written an hour before the bundle. */
function smallBundle(): { dir: string; input: string } {
  const top = scratch('bundle-');
  const dir = path.join(top, 'bundle');
  mkdirSync(dir);
  mkdirSync(path.join(top, 'src'));
  const input = path.join(top, 'src', 'a.js');
  writeFileSync(input, 'export {};\n');
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(input, hourAgo, hourAgo);
  const files = bundleFiles(dir);
  writeFileSync(
    files.code,
    [
      'const calls = [];',
      'exports.earlyOff = async () => { calls.push("earlyOff"); };',
      'exports.run = async () => { calls.push("run"); };',
      'exports.initAll = async () => { calls.push("initAll"); };',
      'exports.calls = calls;',
      'exports.file = __filename;',
      'exports.nodeFs = typeof require("node:fs").readFileSync;',
      // What stays outside the bundle is loaded through __bundleImport (pino-pretty, aedes).
      'exports.outside = () => __bundleImport("yaml").then((m) => typeof m.parse);',
    ].join('\n'),
  );
  writeFileSync(files.manifest, JSON.stringify({ inputs: ['../src/a.js'] }));
  return { dir, input };
}

describe('gateway bundle loader', () => {
  it('runs a bundle newer than its modules as CommonJS, and takes the code cache made from it', async () => {
    const { dir } = smallBundle();
    const first = loadBundle(dir, { useCache: false, env: {} });
    if (!first.bundle) throw new Error(first.why);
    expect(first.cache).toBe('none');
    writeFileSync(bundleFiles(dir).cache, first.script.createCachedData());

    const again = loadBundle(dir, { env: {} });
    if (!again.bundle) throw new Error(again.why);
    expect(again.cache).toBe('used');
    await again.bundle.earlyOff();
    await again.bundle.run();
    const exported = again.bundle as unknown as { calls: string[]; file: string; nodeFs: string; outside: () => Promise<string> };
    expect(exported.calls).toEqual(['earlyOff', 'run']);
    expect(await exported.outside()).toBe('function');
    expect(exported.file).toBe(bundleFiles(dir).code);
    expect(exported.nodeFs).toBe('function');
  });

  it('runs a bundle written wrapped (as the build writes it) and one in UTF-8 with non-ASCII text', () => {
    const wrapped = smallBundle();
    const code = bundleFiles(wrapped.dir).code;
    writeFileSync(code, `${BUNDLE_WRAPPER[0]}exports.text = "gate \\u5165\\u53e3"; exports.file = __filename;${BUNDLE_WRAPPER[1]}`);
    const a = loadBundle(wrapped.dir, { env: {} });
    if (!a.bundle) throw new Error(a.why);
    expect(a.bundle as unknown).toMatchObject({ text: 'gate 入口', file: code });

    const utf8 = smallBundle();
    writeFileSync(bundleFiles(utf8.dir).code, 'exports.text = "入口 37.3 °C";');
    const b = loadBundle(utf8.dir, { env: {} });
    if (!b.bundle) throw new Error(b.why);
    expect((b.bundle as unknown as { text: string }).text).toBe('入口 37.3 °C');
  });

  it('still runs the bundle when V8 refuses the cache (another node, another source)', () => {
    const { dir } = smallBundle();
    writeFileSync(bundleFiles(dir).cache, Buffer.from('not a code cache'));
    const loaded = loadBundle(dir, { env: {} });
    expect(loaded.bundle).not.toBeNull();
    if (loaded.bundle) expect(loaded.cache).toBe('rejected');
  });

  it('leaves the start to the modules when one of them is newer than the bundle, naming it', () => {
    const { dir, input } = smallBundle();
    const later = new Date(Date.now() + 60_000);
    utimesSync(input, later, later);
    const loaded = loadBundle(dir, { env: {} });
    expect(loaded.bundle).toBeNull();
    if (!loaded.bundle) expect(loaded.why).toBe(`${input} is newer than the bundle`);
  });

  it('leaves the start to the modules when a module built into the bundle is gone, naming it', () => {
    const { dir, input } = smallBundle();
    rmSync(input);
    const loaded = loadBundle(dir, { env: {} });
    expect(loaded.bundle).toBeNull();
    if (!loaded.bundle) expect(loaded.why).toBe(`${input}, built into the bundle, is gone`);
  });

  it('leaves the start to the modules when there is no bundle, or GATEWAY_BUNDLE=off', () => {
    const empty = scratch('no-bundle-');
    const none = loadBundle(empty, { env: {} });
    expect(none.bundle).toBeNull();
    if (!none.bundle) expect(none.why).toContain('no bundle at');
    const { dir } = smallBundle();
    const off = loadBundle(dir, { env: { GATEWAY_BUNDLE: 'off' } });
    expect(off.bundle).toBeNull();
    if (!off.bundle) expect(off.why).toBe('GATEWAY_BUNDLE=off');
  });

  it('the build leaves a current bundle of the gateway, with a code cache, next to dist/gateway/main.js', () => {
    const files = bundleFiles(path.join(ROOT, 'dist/gateway/bundle'));
    expect(bundleStaleness(files)).toBeNull();
    // The manifest names the modules main.ts would otherwise load (early all-off and run).
    const inputs = (JSON.parse(readFileSync(files.manifest, 'utf8')) as { inputs: string[] }).inputs;
    expect(inputs).toEqual(expect.arrayContaining(['../boot/early-off.js', '../run.js', '../gateway.js', '../lane/lane.js']));
    // ASCII only: one character above U+00FF would make V8 hold the whole source as a
    // two-byte string (the Chinese texts are \u escapes instead).
    const source = readFileSync(files.code, 'utf8');
    expect(source.startsWith(BUNDLE_WRAPPER[0])).toBe(true);
    expect(source).toContain('\\u');
    expect(/[^\x00-\x7f]/.exec(source)?.[0]).toBeUndefined();
    const loaded = loadBundle(path.dirname(files.code), { env: {} });
    if (!loaded.bundle) throw new Error(loaded.why);
    expect(typeof loaded.bundle.earlyOff).toBe('function');
    expect(typeof loaded.bundle.run).toBe('function');
  });
});
