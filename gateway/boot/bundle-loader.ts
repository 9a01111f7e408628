// Runs the gateway from one bundled file with a V8 code cache (both made by `npm run build`,
// scripts/bundle-gateway.mjs) instead of ~600 modules: resolving, reading and compiling
// those was most of the start-up time (docs/footprint.md). Node 20 has no module compile
// cache (module.enableCompileCache is 22.1+), so the bundle is CommonJS run through
// vm.Script, whose cachedData V8 checks itself (same source, same V8 and flags, else it
// compiles as usual). Only node: built-ins here: main.ts loads this before anything else.
//
// The bundle is used only when every module it was built from is older than it; a newer
// one (a `tsc` without the bundle step) starts the gateway from the modules, as does
// GATEWAY_BUNDLE=off (module file names in stack traces).
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** What the bundle exports (gateway/boot/bundle-entry.ts). */
export interface GatewayBundle {
  earlyOff(): Promise<void>;
  /** `onReady`: called right after the ready line (the build makes the code cache there). */
  run(hooks?: { onReady?: () => void }): Promise<void>;
  initAll(): Promise<void>;
}

/** The files of a bundle, in one folder. */
export interface BundleFiles {
  code: string;
  cache: string;
  /** JSON: { inputs: string[] } — the modules it was built from, relative to the folder. */
  manifest: string;
}

export function bundleFiles(dir: string): BundleFiles {
  return { code: path.join(dir, 'gateway.cjs'), cache: path.join(dir, 'gateway.cjs.cache'), manifest: path.join(dir, 'manifest.json') };
}

export type CacheUse = 'used' | 'rejected' | 'none';

export type BundleLoad = { bundle: GatewayBundle; script: vm.Script; cache: CacheUse } | { bundle: null; why: string };

/** Why the bundle in `dir` must not be used (missing, or older than a module it holds), else null. */
export function bundleStaleness(files: BundleFiles): string | null {
  let builtMs: number;
  let inputs: string[];
  try {
    builtMs = statSync(files.code).mtimeMs;
    inputs = (JSON.parse(readFileSync(files.manifest, 'utf8')) as { inputs: string[] }).inputs;
  } catch {
    return `no bundle at ${files.code}`;
  }
  const dir = path.dirname(files.manifest);
  for (const input of inputs) {
    // Joined as text (the kernel resolves the ..): path.resolve on each of the ~150 names
    // was half of this check's 2-5 ms at start. Resolved for the message only.
    let stat;
    try {
      stat = statSync(`${dir}${path.sep}${input}`, { throwIfNoEntry: false });
    } catch {
      stat = undefined; // not readable (a folder in its place, no permission): as gone
    }
    if (stat === undefined) return `${path.resolve(dir, input)}, built into the bundle, is gone`;
    if (stat.mtimeMs > builtMs) return `${path.resolve(dir, input)} is newer than the bundle`;
  }
  return null;
}

/**
 * The CommonJS wrapper, as Node's own loader puts around a .cjs file, plus __bundleImport
 * for the bundle's import() of what stays outside it (scripts/bundle-gateway.mjs).
 */
export const BUNDLE_WRAPPER = ['(function (exports, require, module, __filename, __dirname, __bundleImport) {', '\n})'] as const;

/**
 * The bundle's text as V8 compiles it. The build writes it wrapped already: wrapping it
 * here made a second 2.6 MB string in V8's heap at each start (the concatenation, which
 * V8 flattens to compile). An unwrapped one (written by hand, tests) is wrapped here.
 * (Read as latin1 instead, an ASCII bundle is an external string outside the heap, but
 * the start measured 10-20 ms slower that way.)
 */
function wrappedSource(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.startsWith(BUNDLE_WRAPPER[0]) ? text : `${BUNDLE_WRAPPER[0]}${text}${BUNDLE_WRAPPER[1]}`;
}

/**
 * Compile and run the bundle (its top level only: each step loads its modules when
 * called). `useCache: false` compiles without the cache (the build, making it).
 */
export function loadBundle(dir: string, opts: { env?: NodeJS.ProcessEnv; useCache?: boolean } = {}): BundleLoad {
  const env = opts.env ?? process.env;
  if ((env['GATEWAY_BUNDLE'] ?? '').toLowerCase() === 'off') return { bundle: null, why: 'GATEWAY_BUNDLE=off' };
  const files = bundleFiles(dir);
  const stale = bundleStaleness(files);
  if (stale !== null) return { bundle: null, why: stale };
  let cachedData: Buffer | undefined;
  if (opts.useCache !== false) {
    try {
      cachedData = readFileSync(files.cache);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new vm.Script(wrappedSource(readFileSync(files.code)), {
    filename: files.code,
    ...(cachedData ? { cachedData } : {}),
  });
  const cache: CacheUse = cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used';
  const wrapper = script.runInThisContext() as (e: object, r: NodeRequire, m: { exports: object }, f: string, d: string, i: (s: string) => Promise<unknown>) => void;
  const module = { exports: {} };
  // Bare package names resolve from here as from the bundle: the same node_modules.
  wrapper.call(module.exports, module.exports, createRequire(files.code), module, files.code, dir, (specifier) => import(specifier));
  return { bundle: module.exports as GatewayBundle, script, cache };
}
