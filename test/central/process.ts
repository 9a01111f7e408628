// The built central office service as a child process (`node dist/central/main.js`), so
// a test can kill -9 it like a power cut.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { Cleanup } from '../gateway/telemetry/helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** The /healthz base URL, from the "ready" log line. */
  readonly url: string;
  readonly log: string[];
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServiceProcess(cleanup: Cleanup, configFile: string): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/central/main.js')], {
    env: { ...process.env, CENTRAL_CONFIG: configFile, LOG_LEVEL: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  cleanup.add(() => end('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        log.push(line);
        try {
          const j = JSON.parse(line) as { msg?: string; http?: string };
          if (j.msg?.startsWith('ready:') && j.http) resolve(j.http);
        } catch {
          // not JSON
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    child.once('exit', (code) => reject(new Error(`central service exited with ${code} before ready:\n${log.join('\n')}`)));
  });
  return { child, url, log, kill9: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}
