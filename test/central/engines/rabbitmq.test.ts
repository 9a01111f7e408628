// The gateway and the office on RabbitMQ's MQTT plugin (127.0.0.1:1884, guest/guest),
// MQTT 3.1.1, one office subscriber (the plugin has no shared subscriptions). The broker
// is the machine's and cannot be stopped, so a TCP relay cuts the gateway's link.
import { afterEach, beforeEach, describe, it } from 'vitest';
import { Cleanup } from '../../gateway/telemetry/helpers.js';
import { rabbitmq } from './helpers.js';
import { killScenario, outageScenario } from './scenarios.js';

describe('RabbitMQ MQTT plugin (MQTT 3.1.1)', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('stores each of 1000 decisions taken while the gateway\'s link was down exactly once, in seq order', { timeout: 90_000 }, async () => {
    await outageScenario(cleanup, await rabbitmq());
  });

  it('still stores every decision once when the office is killed -9 mid-drain and restarted', { timeout: 90_000 }, async () => {
    await killScenario(cleanup, await rabbitmq());
  });
});
