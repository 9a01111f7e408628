// Prototype keys (`__proto__`, `constructor`, `prototype`) in a signed update are refused
// like any unknown key, wherever they sit: a copy by assignment would otherwise make
// them a prototype (a policy of only `__proto__` was applied as `{}`).
import { beforeAll, describe, expect, it } from 'vitest';
import { MINE_ENTRANCE } from '../../../gateway/policy/profiles.js';
import { verifyUpdate, prepareUpdateData, type UpdateKind, type VerifyContext } from '../../../gateway/updates/envelope.js';
import { forbiddenKeyPath } from '../../../gateway/updates/keys.js';
import { CHECKPOINT, SITE, centralKeys, codeOf, envelope, signed, watch, type CentralKeys } from './helpers.js';

let keys: CentralKeys;

beforeAll(async () => {
  keys = await centralKeys('central-proto');
});

function ctx(topicKind: string): VerifyContext {
  return { topicKind, site: SITE, checkpoint: CHECKPOINT, keys: keys.trust, appliedVersion: () => 0, policyBase: MINE_ENTRANCE };
}

/** Data as JSON.parse makes it: `__proto__` an own key, as it arrives over MQTT. */
const parsed = (json: string): unknown => JSON.parse(json);

const cases: [string, UpdateKind, string][] = [
  ['a policy update whose only key is __proto__', 'policy', '{"overrides":{"__proto__":{"feverThreshold":45}}}'],
  ['a policy update with __proto__ beside a valid key', 'policy', '{"overrides":{"feverThreshold":37.5,"__proto__":{"enforce":false}}}'],
  ['a policy update with a nested __proto__', 'policy', '{"overrides":{"testWindowHoursByCategory":{"__proto__":{"visitor":9999}}}}'],
  ['a policy update with a constructor key', 'policy', '{"overrides":{"constructor":{"prototype":{"enforce":false}}}}'],
  ['a watchlist entry carrying __proto__', 'watchlist', '{"entries":[{"subjectId":"P-1","kind":"close-contact","from":"2022-12-01","until":null,"__proto__":{"x":1}}]}'],
  ['a data object with a prototype key', 'risk-areas', '{"entries":[],"prototype":{}}'],
  ['a trust key with __proto__', 'trust-keys', '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k1","__proto__":{"d":"x"}}]}'],
  ['a resend request with __proto__', 'resend', '{"fromSeq":1,"toSeq":2,"__proto__":{"toSeq":99999}}'],
];

describe('prototype keys in updates', () => {
  for (const [what, kind, json] of cases) {
    it(`refuses ${what} with UPDATE_SCHEMA_INVALID, naming where the key is`, async () => {
      const token = await signed(keys, kind, 1, parsed(json));
      const result = await codeOf(verifyUpdate(token, ctx(kind)));
      expect(result).toMatch(/^UPDATE_SCHEMA_INVALID: .*(__proto__|constructor|prototype).*not allowed/);
    });
  }

  it('refuses an envelope with a __proto__ key beside its fields', async () => {
    const env = JSON.parse(JSON.stringify(envelope('watchlist', 1, { entries: [watch('P-1')] }))) as Record<string, unknown>;
    Object.defineProperty(env, '__proto__', { value: { version: 99 }, enumerable: true, configurable: true, writable: true });
    const { signUpdate } = await import('../../../gateway/updates/sign.js');
    const token = await signUpdate(env as never, keys.privateJwk);
    expect(await codeOf(verifyUpdate(token, ctx('watchlist')))).toMatch(/^UPDATE_SCHEMA_INVALID: .*envelope\.__proto__/);
  });

  it('makes `central sign` refuse such data before signing (prepareUpdateData)', async () => {
    const result = await codeOf(prepareUpdateData(envelope('policy', 1, parsed('{"overrides":{"__proto__":{}}}'))));
    expect(result).toMatch(/^UPDATE_SCHEMA_INVALID: .*data\.overrides\.__proto__: the key is not allowed/);
  });

  it('still accepts the same kinds without such keys (the check is about keys, not values)', async () => {
    const token = await signed(keys, 'policy', 1, parsed('{"overrides":{"feverThreshold":37.5,"name":"constructor"}}'));
    await expect(verifyUpdate(token, ctx('policy'))).resolves.toMatchObject({ prepared: { kind: 'policy' } });
  });

  it('finds the first forbidden key deep in arrays and objects', () => {
    expect(forbiddenKeyPath(parsed('{"a":[{"b":1},{"c":{"__proto__":null}}]}'))).toBe('(value).a.1.c.__proto__');
    expect(forbiddenKeyPath(parsed('{"a":[1,2,{"b":"__proto__"}]}'))).toBeNull();
  });
});
