// The gateway and the office on a NATS server of the test's own (JetStream + its MQTT
// listener, free ports), MQTT 3.1.1, one office subscriber (NATS's MQTT side has no
// shared subscriptions). A TCP relay cuts the gateway's link, as for the other engines.
import { afterEach, beforeEach, describe, it } from 'vitest';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { natsServer } from './helpers.js';
import { killScenario, outageScenario } from './scenarios.js';

describe('NATS with JetStream, MQTT listener (MQTT 3.1.1)', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('stores each of 1000 decisions taken while the gateway\'s link was down exactly once, in seq order', { timeout: 90_000 }, async () => {
    await outageScenario(cleanup, await natsServer(cleanup));
  });

  it('still stores every decision once when the office is killed -9 mid-drain and restarted', { timeout: 90_000 }, async () => {
    await killScenario(cleanup, await natsServer(cleanup));
  });
});
