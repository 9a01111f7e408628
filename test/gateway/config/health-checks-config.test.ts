// policy.healthChecks (issue 14 item 4): on unless set off, and nothing else accepted.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../gateway/config/load.js';
import { resolveLaneProfiles } from '../../../gateway/config/profiles.js';

const minimal = (policy = '') => `
site: s1
checkpoint: c1
dataDir: data
privacy: { pseudonymSecretFile: secret }
trust: { passIssuersDir: trust }
${policy}
lanes:
  - id: in-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: sim }
`;

describe('policy.healthChecks', () => {
  it('is on when left out', () => {
    expect(parseConfig(minimal(), 'gateway.yaml').config.policy.healthChecks).toBe('on');
  });

  it('takes off, written plainly in YAML', () => {
    expect(parseConfig(minimal('policy:\n  healthChecks: off'), 'gateway.yaml').config.policy.healthChecks).toBe('off');
  });

  it('refuses anything but on or off, naming the key and the line', () => {
    try {
      parseConfig(minimal('policy:\n  healthChecks: false'), '/etc/checkpoint/gateway.yaml');
      throw new Error('expected the configuration to be refused');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.join('\n')).toContain('line 8: policy.healthChecks: expected on or off');
    }
  });
});

describe('the access-only demo (config/access-only.yaml)', () => {
  it('turns health checks off on a lane of the access-only profile', () => {
    const loaded = loadConfig(path.resolve('config/access-only.yaml'), {});
    expect(loaded.config.policy.healthChecks).toBe('off');
    const profiles = resolveLaneProfiles(loaded);
    expect(profiles.lanes.get('in-1')?.profile).toMatchObject({ name: 'access-only', healthChecks: 'off' });
  });
});
