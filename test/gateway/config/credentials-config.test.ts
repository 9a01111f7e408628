// credentials.maxPassLifetimeHours (issue 10, defect 10): defaulted, bounded, and checked
// like every other key, with the key path in the error.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../gateway/config/load.js';

const minimal = (extra = '') => `
site: s1
checkpoint: c1
dataDir: data
privacy: { pseudonymSecretFile: secret }
trust: { passIssuersDir: trust }
${extra}
lanes:
  - id: in-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: sim }
`;

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, '/etc/checkpoint/gateway.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be refused');
}

describe('credentials.maxPassLifetimeHours', () => {
  it('defaults to 168 h (7 days) when the credentials section is left out', () => {
    expect(parseConfig(minimal(), 'gateway.yaml').config.credentials).toEqual({ maxPassLifetimeHours: 168 });
  });

  it('takes a site value', () => {
    expect(parseConfig(minimal('credentials: { maxPassLifetimeHours: 72 }'), 'gateway.yaml').config.credentials.maxPassLifetimeHours).toBe(72);
  });

  it('refuses zero, a fraction, more than a year and a misspelt key, naming the key path', () => {
    expect(problemsOf(minimal('credentials: { maxPassLifetimeHours: 0 }')).join('\n')).toContain('credentials.maxPassLifetimeHours');
    expect(problemsOf(minimal('credentials: { maxPassLifetimeHours: 1.5 }')).join('\n')).toContain('credentials.maxPassLifetimeHours');
    expect(problemsOf(minimal('credentials: { maxPassLifetimeHours: 9000 }')).join('\n')).toContain('credentials.maxPassLifetimeHours');
    expect(problemsOf(minimal('credentials: { maxPassLifetimeHour: 24 }')).join('\n')).toContain('credentials');
  });
});
