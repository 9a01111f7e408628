// What the decision benches share: the demo issuer's signed passes for employees with a
// green code, a 1 h old negative test and no travel, and one lane of sim devices over a
// real store deciding them under the mine-entrance profile, as the gateway builds it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { issuePass, trustListFromJwks, type TrustJwk, type TrustList } from '../gateway/credentials/index.js';
import { buildSimLane } from '../gateway/gateway.js';
import { MINE_ENTRANCE } from '../gateway/policy/profiles.js';
import type { Store } from '../gateway/store/index.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const readJson = (f: string): unknown => JSON.parse(readFileSync(path.join(root, f), 'utf8'));

/** The demo issuer's public key as a trust list. */
export function demoTrust(): Promise<TrustList> {
  return trustListFromJwks([readJson('config/trust/demo-issuer-1.jwk.json') as TrustJwk]);
}

/** `n` passes signed by the demo issuer at `now`, subjects `${prefix}-0` …, all admissible. */
export async function demoPasses(n: number, now: number, prefix = 'bench'): Promise<string[]> {
  const privateJwk = readJson('config/demo/issuer-1.private.jwk.json') as Parameters<typeof issuePass>[1];
  const iso = (ms: number): string => new Date(ms).toISOString();
  const passes: string[] = [];
  for (let i = 0; i < n; i++) {
    passes.push(
      await issuePass(
        {
          sub: `${prefix}-${i}`,
          name: '测试员',
          category: 'employee',
          healthCode: 'green',
          travel: { riskLevel: 'none', visits: [], asOf: iso(now) },
          test: { result: 'negative', sampledAt: iso(now - 3_600_000) },
        },
        privateJwk,
        { now },
      ),
    );
  }
  return passes;
}

/** One lane of sim devices over `store`, not yet started. */
export function benchLane(store: Store, trust: TrustList, o: { id?: string; secret?: Buffer } = {}): ReturnType<typeof buildSimLane> {
  return buildSimLane({
    laneConfig: { id: o.id ?? 'bench', temperatureWindowMs: 10_000, relayPulseMs: 700, scanner: { type: 'sim' }, thermometer: { type: 'sim' }, relay: { type: 'sim' } },
    profile: MINE_ENTRANCE,
    store,
    trust,
    secret: o.secret ?? Buffer.alloc(32, 1),
    eventsTopic: 'checkpoints/bench/bench/events',
    ctx: { site: 'bench', checkpoint: 'bench' },
    showMs: 6000,
    now: Date.now,
    logger: pino({ level: 'silent' }),
    afterRecord: () => {},
    onSnapshot: () => {},
  });
}
