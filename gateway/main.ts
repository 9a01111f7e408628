// Entry point of the checkpoint gateway process. The first thing it does is shut every
// host-timed relay (LCUS, dcttech HID): a gateway killed mid-pulse leaves such a gate
// open, and systemd restarts us within RestartSec. Only then is the rest loaded: the
// static imports here are kept to the early all-off (yaml and the relay frames).
import { earlyAllOff } from './boot/early-off.js';

await earlyAllOff();
await import('./run.js');
