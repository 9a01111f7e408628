// The running gateway checks the clock at start with the real `timedatectl` lookup on
// PATH: a machine whose timedatectl answers "no" gets a warning and an alert the guard
// sees; "yes" gets neither. (The tool here is a two-line script standing in for
// systemd's, which this container cannot run: it has no systemd as PID 1.)
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { guardGet, scratchDirs, startGatewayProcess, until, type GatewayProcess } from './helpers.js';

/** Temporary folders of this file, removed after it. */
const madeDir = scratchDirs();

let gw: GatewayProcess | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

/** A folder holding a `timedatectl` that prints `answer`, to put first on PATH. */
function timedatectlSaying(answer: string): string {
  const bin = path.join(madeDir('clock-bin-'), 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'timedatectl'), `#!/bin/sh\n[ "$*" = "show -p NTPSynchronized --value" ] || exit 1\necho ${answer}\n`);
  chmodSync(path.join(bin, 'timedatectl'), 0o755);
  return `${bin}:${process.env['PATH'] ?? ''}`;
}

interface AlertsBody {
  alerts: { kind: string; code: string; severity: string; lane: string | null }[];
  unacked: number;
}

describe('clock check at start', () => {
  it('warns and raises an alert when timedatectl says the clock is not synchronised', async () => {
    gw = await startGatewayProcess({ site: 'clock-no', env: { PATH: timedatectlSaying('no') } });
    const line = await until('the clock warning', () => gw!.logs.find((l) => l.includes('NOT synchronised')));
    expect(JSON.parse(line)).toMatchObject({ level: 40, clock: { state: 'unsynchronised' } });
    const body = (await (await guardGet(gw, '/api/guard/alerts')).json()) as AlertsBody;
    expect(body.alerts).toEqual([expect.objectContaining({ kind: 'clock-unsynced', code: 'CLOCK_NOT_SYNCHRONISED', severity: 'warning', lane: null })]);
    expect(body.unacked).toBe(1);
  });

  it('says the clock is synchronised and raises nothing when timedatectl says yes', async () => {
    gw = await startGatewayProcess({ site: 'clock-yes', env: { PATH: timedatectlSaying('yes') } });
    const line = await until('the clock line', () => gw!.logs.find((l) => l.includes('system clock synchronised')));
    expect(JSON.parse(line)).toMatchObject({ level: 30, clock: { state: 'synchronised', how: 'timedatectl' } });
    const body = (await (await guardGet(gw, '/api/guard/alerts')).json()) as AlertsBody;
    expect(body.alerts).toEqual([]);
  });
});
