// mqtt.js is loaded at a link's first start, not with the link's module (it is not needed
// before the gateway's ready line). A link stopped before that load completes never
// connects; a started one connects once it has loaded. Its own file: a fresh module graph,
// so the first start here is the one that loads mqtt.js.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../gateway/store/types.js';
import { MqttLink, type StatusSource } from '../../../gateway/telemetry/link.js';
import type { CheckpointTopics } from '../../../gateway/telemetry/topics.js';
import { Cleanup, SHARED_BROKER, linkOptions, storeFixture, testStatusSource, waitFor } from './helpers.js';

let cleanup: Cleanup;
let store: Store;
let topics: CheckpointTopics;

beforeEach(async () => {
  ({ cleanup, store, topics } = await storeFixture('link-start', { clearStatusOn: SHARED_BROKER }));
});

afterEach(async () => {
  await cleanup.run();
});

/** The test status source, counting the connection attempts (one session number each). */
function countingSource(): { source: StatusSource; attempts: () => number } {
  const inner = testStatusSource();
  let attempts = 0;
  return {
    source: { ...inner, nextSession: () => (attempts++, inner.nextSession()) },
    attempts: () => attempts,
  };
}

describe('MqttLink start and mqtt.js', () => {
  it('never connects when stopped before its first start has loaded mqtt.js, and connects when started again after', async () => {
    const first = countingSource();
    const stopped = new MqttLink(linkOptions(store, topics, { statusSource: first.source }));
    stopped.start();
    await stopped.stop();
    // mqtt.js is in by the time another link has connected.
    const second = countingSource();
    const link = new MqttLink(linkOptions(store, topics, { statusSource: second.source }));
    cleanup.add(() => link.stop());
    link.start();
    await waitFor('the second link connected', () => link.status().state === 'connected');
    expect(first.attempts()).toBe(0);
    expect(stopped.status().state).toBe('disconnected');
    expect(second.attempts()).toBe(1);
  });
});
