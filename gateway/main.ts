// Entry point of the checkpoint gateway process. The first thing it does is shut every
// host-timed relay (LCUS, dcttech HID): a gateway killed mid-pulse leaves such a gate
// open, and systemd restarts us within RestartSec. Only then is the rest loaded: the
// static imports here are kept to the bundle loader (node: built-ins only), and each step
// loads its own modules, from the bundle `npm run build` makes when it is there and
// current (boot/bundle-loader.ts), else from the modules themselves.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle } from './boot/bundle-loader.js';

const loaded = loadBundle(path.join(path.dirname(fileURLToPath(import.meta.url)), 'bundle'));
if (loaded.bundle) {
  await loaded.bundle.earlyOff();
  await loaded.bundle.run();
} else {
  const { earlyAllOff } = await import('./boot/early-off.js');
  await earlyAllOff();
  const { runGateway } = await import('./run.js');
  await runGateway();
}
