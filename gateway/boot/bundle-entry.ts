// The entry of the bundled gateway (scripts/bundle-gateway.mjs, loaded by bundle-loader.ts).
// The same two steps as main.ts, each initialising its modules only when called, so the
// early relay all-off still runs before the rest of the gateway is loaded.
import type { RunHooks } from '../run.js';

export async function earlyOff(): Promise<void> {
  const { earlyAllOff } = await import('./early-off.js');
  await earlyAllOff();
}

export async function run(hooks?: RunHooks): Promise<void> {
  const { runGateway } = await import('../run.js');
  await runGateway(hooks);
}

/**
 * Build time, when the start the code cache is made from fails (scripts/bundle-gateway.mjs):
 * initialise every module without starting anything, so the cache holds their top level.
 */
export async function initAll(): Promise<void> {
  await import('./early-off.js');
  await import('../run.js');
}
