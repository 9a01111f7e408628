// The gateway and the office on Mosquitto (the machine's 127.0.0.1:1883), MQTT 5, the
// office on a shared subscription. A TCP relay cuts the gateway's link, as for the others.
import { afterEach, beforeEach, describe, it } from 'vitest';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { mosquitto } from './helpers.js';
import { killScenario, outageScenario } from './scenarios.js';

describe('Mosquitto (MQTT 5, shared subscription)', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('stores each of 1000 decisions taken while the gateway\'s link was down exactly once, in seq order', { timeout: 90_000 }, async () => {
    await outageScenario(cleanup, await mosquitto());
  });

  it('still stores every decision once when the office is killed -9 mid-drain and restarted', { timeout: 90_000 }, async () => {
    await killScenario(cleanup, await mosquitto());
  });
});
