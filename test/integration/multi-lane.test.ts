// Several lanes from one configuration: each decides on its own devices.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, guardGet, postJson, startGatewayProcess, tempDir, until, writeConfig, type GatewayProcess } from './helpers.js';

let gw: GatewayProcess;

beforeAll(async () => {
  const site = `ml-${randomBytes(3).toString('hex')}`;
  const dir = tempDir('multi-lane-');
  const config = writeConfig(dir, site);
  writeFileSync(
    config,
    `${readFileSync(config, 'utf8')}  - id: out-1
    name: 出口 1 / Exit 1
    scanner: { type: sim }
    thermometer: { type: sim }
    relay: { type: sim }
`,
  );
  gw = await startGatewayProcess({ site, config });
});

afterAll(async () => {
  await gw?.stop();
});

describe('a gateway with two lanes', () => {
  it('decides on the lane that was scanned and pulses only that lane’s relay', async () => {
    const lanes = (await (await fetch(`${gw.url}/api/lanes`)).json()) as { lanes: { lane: string; state: string }[] };
    expect(lanes.lanes.map((l) => l.lane)).toEqual(['in-1', 'out-1']);

    const { stdout: pass } = await cli(['pass', 'issue']);
    await postJson(`${gw.url}/api/sim/lanes/out-1/temperature`, { celsius: 36.7 });
    await postJson(`${gw.url}/api/sim/lanes/out-1/scan`, { payload: pass.trim() });
    const event = await until('the decision', async () => {
      const { events } = (await (await guardGet(gw, '/api/events?lane=out-1')).json()) as { events: { lane: string; outcome: string }[] };
      return events[0];
    });
    expect(event).toMatchObject({ lane: 'out-1', outcome: 'admit' });

    const pulses = async (lane: string) => ((await (await fetch(`${gw.url}/api/sim/lanes/${lane}/relay`)).json()) as { pulses: unknown[] }).pulses.length;
    expect(await pulses('out-1')).toBe(1);
    expect(await pulses('in-1')).toBe(0);
    const inLane = (await (await guardGet(gw, '/api/events?lane=in-1')).json()) as { events: unknown[] };
    expect(inLane.events).toEqual([]);
  });
});
