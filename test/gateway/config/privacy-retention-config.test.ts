// privacy.personalDataDays / ledgerDays / retentionCheckMs (issue 14 item 2): defaults,
// whole days only, and the ledger kept at least as long as the personal fields.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../gateway/config/load.js';

const minimal = (privacy = '') => `
site: s1
checkpoint: c1
dataDir: data
privacy:
  pseudonymSecretFile: secret
${privacy}
trust: { passIssuersDir: trust }
lanes:
  - id: in-1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: sim }
`;

const problems = (privacy: string): string => {
  try {
    parseConfig(minimal(privacy), '/etc/checkpoint/gateway.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.join('\n');
  }
  throw new Error('expected the configuration to be refused');
};

describe('privacy retention settings', () => {
  it('default to 28 days of personal data, 365 days of ledger, a run every 10 minutes', () => {
    expect(parseConfig(minimal(), 'gateway.yaml').config.privacy).toMatchObject({ personalDataDays: 28, ledgerDays: 365, retentionCheckMs: 600_000 });
  });

  it('take other whole numbers of days', () => {
    expect(parseConfig(minimal('  personalDataDays: 14\n  ledgerDays: 90'), 'gateway.yaml').config.privacy).toMatchObject({ personalDataDays: 14, ledgerDays: 90 });
  });

  it('refuse a fraction of a day, naming the key and the line', () => {
    expect(problems('  personalDataDays: 1.5')).toContain('line 7: privacy.personalDataDays: expected a whole number of days');
  });

  it('refuse a ledger kept for less time than its personal fields', () => {
    expect(problems('  personalDataDays: 60\n  ledgerDays: 30')).toContain('privacy.ledgerDays: expected at least privacy.personalDataDays (60)');
  });
});
