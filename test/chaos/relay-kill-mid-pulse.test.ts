// Issue 10, defect 3: an LCUS relay has no timer, so a gateway killed mid-pulse leaves
// the gate open until a new process says off. The built gateway runs the lane on socat
// ptys; it is killed with SIGKILL 200 ms into a 700 ms pulse and restarted after the
// shipped unit's RestartSec, as systemd would. No timing assertion: the order of events
// is checked (off before "ready"), the measured times are printed for the report.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir, until, writeConfig } from '../integration/helpers.js';
import { killHard, laneRig, spawnGateway, stopGently, unitSpanMs, withLanes, type LaneRig, type Proc } from './pty-rig.js';

const ON = 'a00101a2';
const OFF = 'a00100a1';

describe('a host-timed relay after the gateway dies mid-pulse', () => {
  const dir = tempDir('relay-kill-');
  let rig: LaneRig;
  let config: string;
  const procs: Proc[] = [];

  beforeAll(async () => {
    rig = await laneRig(dir);
    const site = `kill-${randomBytes(3).toString('hex')}`;
    config = writeConfig(dir, site);
    writeFileSync(config, withLanes(readFileSync(config, 'utf8'), rig.lanesYaml));
  });

  afterAll(async () => {
    for (const p of procs) await stopGently(p);
    await rig?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is shut by the restarted gateway, which sends the off frame before it reports ready', async () => {
    const first = spawnGateway(config, rig.seq);
    procs.push(first);
    const url = await first.ready;
    await until('the lane in service', async () => {
      const body = (await (await fetch(`${url}/api/lanes`)).json()) as { lanes: { state: string }[] };
      return body.lanes[0]?.state === 'idle' ? true : undefined;
    });
    const { stdout } = await cli(['pass', 'issue', '--name', '张三']);
    await rig.scanner.present(stdout.trim());
    await until('the relay switched on', () => (rig.relay.relays[0] ? true : undefined), 10_000);
    const onAt = Date.now();
    await new Promise((r) => setTimeout(r, 200));
    await killHard(first);
    const killedAt = Date.now();
    const framesAtKill = rig.relayFrames.length;
    // Nobody else closes an LCUS relay: the gate is open now.
    expect(rig.relay.relays[0]).toBe(true);
    expect(rig.relayFrames.at(-1)?.hex).toBe(ON);

    await new Promise((r) => setTimeout(r, unitSpanMs('RestartSec')));
    const seqAtRestart = rig.seq.length;
    const second = spawnGateway(config, rig.seq);
    procs.push(second);
    await until('the relay switched off', () => (rig.relay.relays[0] === false ? true : undefined), 10_000);
    const closedAt = Date.now();
    await second.ready;

    const after = rig.relayFrames.slice(framesAtKill);
    expect(after[0]?.hex).toBe(OFF);
    const readyAt = rig.seq.indexOf('ready', seqAtRestart);
    expect(readyAt).toBeGreaterThan(after[0]!.seq);
    // The early all-off says so in the log, before anything else of the new process.
    const early = second.logs.findIndex((l) => l.includes('"phase":"early-off"') && l.includes('early all-off sent to lcus'));
    expect(early).toBeGreaterThanOrEqual(0);
    expect(second.logs.slice(0, early).filter((l) => l.startsWith('{'))).toEqual([]);
    await stopGently(second);
    process.stdout.write(
      `[relay-kill] on → kill ${killedAt - onAt} ms; kill → closed ${closedAt - killedAt} ms (RestartSec ${unitSpanMs('RestartSec')} ms + early all-off); pulse seen by the board ${rig.relay.pulses.at(-1)?.ms} ms\n`,
    );
  });

  it('is shut even when the rest of the configuration is broken and the gateway refuses to start', async () => {
    const broken = `${dir}/broken.yaml`;
    writeFileSync(broken, readFileSync(config, 'utf8').replace(/^logLevel: .*$/m, 'logLevel: chatty'));
    const before = rig.relayFrames.length;
    const p = spawnGateway(broken, rig.seq);
    procs.push(p);
    expect(await p.exited).toBe(78);
    await until('the off frame at the relay', () => (rig.relayFrames.slice(before).some((f) => f.hex === OFF) ? true : undefined), 5000);
    expect(p.logs.join('\n')).toContain('logLevel');
  });
});
