// Issue 10, defects 1 and 2 at lane level: a lane on the real LU90614 driver (in-memory
// link, byte-exact simulator on the other end), a simulated scanner and relay, fake timers.
// A thermometer that went quiet brings its lane back by itself once it answers; an
// out-of-range answer asks for a re-measure at once and refers when it repeats.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimRelay } from '../../../drivers/relay/sim-relay.js';
import { SimScanner } from '../../../drivers/scanner/sim-scanner.js';
import { Lu90614, LU90614_MEASURE } from '../../../drivers/thermometer/lu90614.js';
import { Lu90614Sim } from '../../../drivers/thermometer/lu90614.sim.js';
import { linkPair } from '../../../drivers/transport/memory-link.js';
import { issuePass } from '../../../gateway/credentials/index.js';
import { buildLane } from '../../../gateway/gateway.js';
import type { Lane } from '../../../gateway/lane/lane.js';
import type { LaneSnapshot } from '../../../gateway/lane/types.js';
import { openStore } from '../../../gateway/store/index.js';
import type { Store } from '../../../gateway/store/types.js';
import { goodClaims, testIssuer } from '../credentials/fixtures.js';
import { freshDir, removeDirs } from '../store/helpers.js';
import { laneParts, simLaneConfig, T0 } from './harness.js';

const WINDOW = 10_000;
const REPLY_MS = 1000;

let store: Store;
let lane: Lane | null = null;

beforeEach(() => {
  // setImmediate stays real: the in-memory link delivers bytes on it.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(T0);
  store = openStore(freshDir('lane-thermo-'));
});

afterEach(async () => {
  await lane?.stop();
  lane = null;
  vi.useRealTimers();
  store.close();
  removeDirs();
});

/** Lets link writes and the simulator's replies through (they travel on setImmediate). */
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

async function setup() {
  const issuer = await testIssuer();
  const [host, device] = linkPair();
  const sim = new Lu90614Sim(device, { celsius: 36.5 });
  sim.start();
  const thermometer = new Lu90614(host, { replyTimeoutMs: REPLY_MS });
  const scanner = new SimScanner();
  const relay = new SimRelay();
  const prompts: string[] = [];
  const parts = laneParts(store, issuer.trust, {
    laneConfig: simLaneConfig('in-1', { temperatureWindowMs: WINDOW }),
    logger: pino({ level: 'silent' }),
    onSnapshot: (snap: LaneSnapshot) => {
      if (snap.prompt && prompts.at(-1) !== snap.prompt.code) prompts.push(snap.prompt.code);
    },
  });
  lane = buildLane(parts, { scanner, thermometer, relay }, null);
  await lane.start();
  await flush(); // the probe on open is answered: the thermometer is up
  const l = lane;
  const present = async () => {
    scanner.scan(await issuePass(goodClaims(), issuer.privateJwk));
    await l.settled();
    await flush();
  };
  const ledger = () => store.queryEvents({ limit: 100 }).reverse();
  /** Measure commands the module received (bytes on the wire, host side). */
  const measures = () => host.written.filter((w) => w.equals(LU90614_MEASURE)).length;
  return { lane: l, sim, thermometer, relay, present, ledger, measures, prompts };
}

describe('a lane whose LU90614 stops answering and then answers again', () => {
  it('goes out of service after three silent measures, and is back in service within 2 s of the module answering, then admits a valid pass', async () => {
    const { lane, sim, relay, present, ledger, measures } = await setup();
    expect(lane.snapshot().state).toBe('idle');
    sim.setFaults({ silent: true });
    for (let i = 0; i < 3; i++) {
      await present();
      await vi.advanceTimersByTimeAsync(WINDOW);
      await flush();
    }
    expect(lane.snapshot()).toMatchObject({ state: 'out-of-service', devices: { thermometer: { state: 'fault' } } });

    // Out of service for a while: the lane asks nothing, the driver keeps probing.
    const before = measures();
    await vi.advanceTimersByTimeAsync(5000);
    expect(measures()).toBeGreaterThan(before);

    sim.setFaults({ silent: false });
    for (let ms = 0; ms < 2000 && lane.snapshot().state !== 'idle'; ms += 100) {
      await vi.advanceTimersByTimeAsync(100);
      await flush();
    }
    expect(lane.snapshot()).toMatchObject({ state: 'idle', devices: { thermometer: { state: 'connected' } } });

    await present();
    const last = ledger().at(-1);
    expect(last).toMatchObject({ outcome: 'admit', temperature: 36.5 });
    expect(relay.pulses).toHaveLength(1);
  });
});

describe('a lane whose LU90614 answers FF FF (out of range)', () => {
  it('asks for a re-measure at once, and refers with TEMP_READING_INVALID when it repeats, well before the window ends', async () => {
    const { sim, relay, present, ledger, measures, prompts } = await setup();
    sim.setOutOfRange();
    const before = measures();
    await present();
    // The first measure was answered FF FF: the kiosk showed the re-measure prompt and a second measure went out.
    expect(prompts).toEqual(['TEMP_NEEDED', 'TEMP_READING_INVALID_REMEASURE']);
    expect(measures() - before).toBe(2);
    const rows = ledger();
    expect(rows).toMatchObject([{ kind: 'decision', outcome: 'refer', reasons: [{ code: 'TEMP_READING_INVALID' }] }]);
    expect(rows[0]?.reasons[0]?.zh).toBe('测温仪读数无效');
    expect(relay.pulses).toEqual([]);
    // No timer ran: the decision did not wait out the temperature window.
    expect(Date.now()).toBe(T0);
  });

  it('admits when the re-measure after one out-of-range answer is valid', async () => {
    const { lane, sim, relay, present, ledger } = await setup();
    sim.setOutOfRange();
    sim.setFaults({ slowMs: 0 });
    // The module answers FF FF once, then 36.5 (the person stepped closer).
    sim.once('sent', () => sim.setTemperature(36.5));
    await present();
    await flush();
    expect(ledger()).toMatchObject([{ outcome: 'admit', temperature: 36.5 }]);
    expect(relay.pulses).toHaveLength(1);
    expect(lane.snapshot().state).toBe('showing');
  });
});
