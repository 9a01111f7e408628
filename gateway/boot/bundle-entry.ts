// The entry of the bundled gateway (scripts/bundle-gateway.mjs, loaded by bundle-loader.ts).
// The same two steps as main.ts, each initialising its modules only when called, so the
// early relay all-off still runs before the rest of the gateway is loaded.

export async function earlyOff(): Promise<void> {
  const { earlyAllOff } = await import('./early-off.js');
  await earlyAllOff();
}

export async function run(): Promise<void> {
  const { runGateway } = await import('../run.js');
  await runGateway();
}

/** Build time: initialise every module without starting anything, so the V8 code cache made next holds their compiled code. */
export async function initAll(): Promise<void> {
  await import('./early-off.js');
  await import('../run.js');
}
