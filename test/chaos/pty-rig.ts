// A lane of real serial devices for chaos tests: a line scanner, an LU90614 thermometer
// and an LCUS relay, each on a socat pty pair whose device end is simulated in the test
// process, plus the built gateway started and killed like systemd would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { LcusRelaySim } from '../../drivers/relay/lcus.sim.js';
import { createSimulator, type ScannerSimulator, type ThermometerSimulator } from '../../drivers/sim/index.js';
import { SerialLink } from '../../drivers/transport/serial.js';
import { ROOT, until } from '../integration/helpers.js';

export const UNIT_FILE = path.join(ROOT, 'deploy/systemd/checkpoint-gateway.service');

/** A systemd time span of the shipped unit in ms ("200ms", "2", "10s"). */
export function unitSpanMs(key: string): number {
  const m = new RegExp(`^${key}=(\\d+)(ms|s)?$`, 'm').exec(readFileSync(UNIT_FILE, 'utf8'));
  if (!m) throw new Error(`${key}= not found in ${UNIT_FILE}`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : 1000);
}

export interface Pty {
  host: string;
  device: string;
  socat: ChildProcess;
}

export async function startSocat(dir: string, name: string): Promise<Pty> {
  if (!['/usr/bin/socat', '/bin/socat', '/usr/local/bin/socat'].some((p) => existsSync(p))) {
    throw new Error('socat is not installed: apt-get install socat (.ci/run does it)');
  }
  const host = path.join(dir, `${name}-host`);
  const device = path.join(dir, `${name}-dev`);
  const socat = spawn('socat', [`pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`], { stdio: 'ignore' });
  return until(`socat links for ${name}`, () => (existsSync(host) && existsSync(device) ? { host, device, socat } : undefined), 5000);
}

export interface LaneRig {
  scanner: ScannerSimulator;
  thermometer: ThermometerSimulator;
  relay: LcusRelaySim;
  /** Every relay frame with the sequence number of its arrival (see `seq`). */
  relayFrames: { hex: string; seq: number }[];
  /** Relay frames and gateway log marks in the order this process saw them. */
  seq: string[];
  lanesYaml: string;
  stop(): Promise<void>;
}

export async function laneRig(dir: string): Promise<LaneRig> {
  const ptys = [await startSocat(dir, 'scanner'), await startSocat(dir, 'thermo'), await startSocat(dir, 'relay')] as const;
  const links: SerialLink[] = [];
  const end = async (p: Pty) => {
    const link = new SerialLink({ path: p.device, baudRate: 9600 }, { backoff: { initialMs: 50, maxMs: 200 } });
    links.push(link);
    await link.start();
    return link;
  };
  const scanner = createSimulator('line-scanner', await end(ptys[0]));
  const thermometer = createSimulator('lu90614', await end(ptys[1]), { celsius: 36.5 });
  const relayLink = await end(ptys[2]);
  const relay = new LcusRelaySim(relayLink);
  const seq: string[] = [];
  const relayFrames: { hex: string; seq: number }[] = [];
  relay.on('frame', (f: Buffer) => {
    seq.push(`relay ${f.toString('hex')}`);
    relayFrames.push({ hex: f.toString('hex'), seq: seq.length - 1 });
  });
  scanner.start();
  thermometer.start();
  relay.start();
  const lanesYaml = `lanes:
  - id: in-1
    relayPulseMs: 700
    scanner: { type: line, path: ${ptys[0].host} }
    thermometer: { type: lu90614, path: ${ptys[1].host} }
    relay: { type: lcus, path: ${ptys[2].host}, channel: 1 }
`;
  return {
    scanner,
    thermometer,
    relay,
    relayFrames,
    seq,
    lanesYaml,
    async stop() {
      scanner.stop();
      thermometer.stop();
      relay.stop();
      for (const l of links) await l.stop();
      for (const p of ptys) {
        if (p.socat.exitCode === null) {
          const gone = new Promise((r) => p.socat.once('exit', r));
          p.socat.kill('SIGTERM');
          await gone;
        }
      }
    },
  };
}

/** The lanes: block of a config replaced by `lanesYaml`. */
export function withLanes(configText: string, lanesYaml: string): string {
  return configText.replace(/^lanes:\n(?:[ -].*\n?)*/m, lanesYaml);
}

export interface Proc {
  child: ChildProcess;
  logs: string[];
  exited: Promise<number | null>;
  /** Resolves with the kiosk URL at the "ready" line; rejects if the process exits first. */
  ready: Promise<string>;
}

/** Start `node dist/gateway/main.js`; its "ready" line is pushed to `seq` when it is seen. */
export function spawnGateway(config: string, seq: string[] = [], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, ['dist/gateway/main.js'], {
    cwd: ROOT,
    env: { ...process.env, GATEWAY_CONFIG: config, HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`gateway exited with ${code} before ready:\n${logs.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      const m = /ready: kiosk at (http:\/\/[^/ ]+)\//.exec(line);
      if (m?.[1]) {
        seq.push('ready');
        resolve(m[1]);
      }
    });
  });
  ready.catch(() => undefined);
  return { child, logs, exited, ready };
}

export async function killHard(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGKILL');
  await p.exited;
}

export async function stopGently(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  await p.exited;
}
