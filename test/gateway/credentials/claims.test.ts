import { describe, expect, it } from 'vitest';
import { claimsToSubject, describeClaimsError, passClaimsSchema } from '../../../gateway/credentials/index.js';
import { goodClaims } from './fixtures.js';

describe('passClaimsSchema', () => {
  it('accepts a complete set of claims and drops unknown ones', () => {
    const parsed = passClaimsSchema.parse({ ...goodClaims(), jti: 'x' });
    expect(parsed).toEqual(goodClaims());
  });

  it('accepts timestamps in UTC or with an offset, and fractional NumericDates', () => {
    const claims = goodClaims({ test: { result: 'positive', sampledAt: '2024-01-09T09:00:00.250+08:00' }, iat: 1.5, exp: 2.5 });
    expect(passClaimsSchema.safeParse(claims).success).toBe(true);
  });

  it('lists every problem with its path, in one message', () => {
    const result = passClaimsSchema.safeParse({
      ...goodClaims(),
      category: 'Employee',
      travel: { riskLevel: 'extreme', visits: [{ region: '', from: '2024-02-30', to: '2024-03-01' }], asOf: '2024-01-09T08:00:00Z' },
      exp: -1,
    });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(describeClaimsError(result.error).split('; ')).toEqual([
      'claim category: expected one of employee|family|contractor|visitor|vendor|driver',
      'claim travel.riskLevel: expected one of none|low|medium|high',
      'claim travel.visits[0].region: expected the region name (a non-empty string)',
      'claim travel.visits[0].from: expected an ISO date YYYY-MM-DD',
      'claim exp: expected a NumericDate of 0 or more',
    ]);
  });

  it('refuses a travel record that is not an object', () => {
    const result = passClaimsSchema.safeParse({ ...goodClaims(), travel: 'none' });
    expect(result.success ? '' : describeClaimsError(result.error)).toBe('claim travel: expected an object {riskLevel, visits, asOf}');
  });
});

describe('claimsToSubject', () => {
  it('maps sub to the subject id and keeps the health facts', () => {
    const claims = passClaimsSchema.parse(goodClaims());
    expect(claimsToSubject(claims)).toEqual({
      id: claims.sub,
      name: claims.name,
      category: 'employee',
      health: { healthCode: 'green', travel: claims.travel, test: claims.test },
    });
  });
});
