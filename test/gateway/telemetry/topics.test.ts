import { describe, expect, it } from 'vitest';
import { isTelemetryError } from '../../../gateway/telemetry/errors.js';
import { topicsFor } from '../../../gateway/telemetry/topics.js';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('topicsFor', () => {
  it('builds the checkpoint topics under the default prefix', () => {
    const t = topicsFor({ site: 'mine-a', checkpoint: 'gate-1' });
    expect(t.status).toBe('checkpoints/mine-a/gate-1/status');
    expect(t.events).toBe('checkpoints/mine-a/gate-1/events');
    expect(t.alerts).toBe('checkpoints/mine-a/gate-1/alerts');
    expect(t.stats).toBe('checkpoints/mine-a/gate-1/stats');
    expect(t.cmd).toBe('checkpoints/mine-a/gate-1/cmd');
    expect(t.cmdFilters).toEqual(['checkpoints/mine-a/gate-1/cmd/#', 'checkpoints/mine-a/all/cmd/#']);
  });

  it('accepts a prefix of several levels', () => {
    expect(topicsFor({ prefix: 'acme/cp', site: 's', checkpoint: 'c' }).events).toBe('acme/cp/s/c/events');
  });

  it.each([
    ['a site containing "/"', { site: 'mine/a', checkpoint: 'gate-1' }],
    ['a site containing "+"', { site: 'mine+', checkpoint: 'gate-1' }],
    ['a checkpoint containing "#"', { site: 'mine-a', checkpoint: 'gate#1' }],
    ['an empty checkpoint', { site: 'mine-a', checkpoint: '' }],
    ['the reserved checkpoint "all"', { site: 'mine-a', checkpoint: 'all' }],
    ['a prefix with a wildcard', { prefix: 'cp/+', site: 'mine-a', checkpoint: 'gate-1' }],
    ['a prefix with an empty level', { prefix: 'cp//x', site: 'mine-a', checkpoint: 'gate-1' }],
    ['a prefix starting with "$"', { prefix: '$SYS', site: 'mine-a', checkpoint: 'gate-1' }],
  ])('refuses %s with TELEMETRY_TOPIC_INVALID', (_what, ctx) => {
    const err = errorOf(() => topicsFor(ctx));
    expect(isTelemetryError(err, 'TELEMETRY_TOPIC_INVALID')).toBe(true);
  });
});
