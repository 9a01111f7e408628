// The sd_notify path for real: a unix datagram socket (a python3 listener) stands in for
// systemd's NOTIFY_SOCKET; the built gateway, started with WATCHDOG_USEC as systemd sets
// it for WatchdogSec=, must send READY=1 and then WATCHDOG=1 pings through sd-notify.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, tempDir, until, type GatewayProcess } from '../integration/helpers.js';
import { UNIT_FILE } from './pty-rig.js';

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(4096).decode().strip().replace("\\n", "|"), flush=True)
`;

describe('systemd notification from the built gateway', () => {
  const dir = tempDir('sd-notify-');
  const running: (GatewayProcess | ChildProcess)[] = [];

  afterAll(async () => {
    for (const p of running) {
      if ('stop' in p) await p.stop();
      else p.kill('SIGTERM');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends READY=1 once ready and WATCHDOG=1 at half of WATCHDOG_USEC on NOTIFY_SOCKET', async () => {
    const socketPath = path.join(dir, 'notify.sock');
    const listener = spawn('python3', ['-c', LISTENER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    running.push(listener);
    const got: string[] = [];
    createInterface({ input: listener.stdout! }).on('line', (l) => got.push(l));
    await until('the notify socket', () => (got.includes('bound') ? true : undefined), 5000);

    const gw = await startGatewayProcess({ site: `sd-${randomBytes(3).toString('hex')}`, env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000' } });
    running.push(gw);
    await until('READY=1 and two watchdog pings', () => (got.filter((l) => l === 'WATCHDOG=1').length >= 2 ? true : undefined), 10_000);
    const ready = got.findIndex((l) => l.split('|').includes('READY=1'));
    expect(ready).toBeGreaterThan(0);
    expect(got.findIndex((l) => l === 'WATCHDOG=1')).toBeGreaterThan(ready);
    await until('the log line', () => (gw.logs.some((l) => l.includes('systemd notified')) ? true : undefined), 5000);
    expect(gw.logs.join('\n')).toMatch(/systemd notified: READY=1, WATCHDOG=1 every 200 ms/);
  });

  it('warns when started outside systemd, and still serves', async () => {
    // Empty, as if unset, even when the test itself runs under systemd.
    const env: Record<string, string> = { NOTIFY_SOCKET: '' };
    const gw = await startGatewayProcess({ site: `sd-${randomBytes(3).toString('hex')}`, env });
    running.push(gw);
    await until('the warning', () => (gw.logs.join('\n').includes('NOTIFY_SOCKET is unset') ? true : undefined), 5000);
  });

  it('ships a Type=notify unit with a watchdog, always restarting after a short delay', () => {
    const unit = readFileSync(UNIT_FILE, 'utf8');
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^WatchdogSec=\d+s?$/m);
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^RestartSec=200ms$/m);
    expect(unit).toMatch(/^StartLimitIntervalSec=0$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node dist\/gateway\/main\.js$/m);
  });
});
