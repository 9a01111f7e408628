// Shared by the tests that run the real serial transport over a socat pty pair: a per-test
// cleanup list, a temp directory for the pty links, socat itself and a polling wait.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

type CleanupFn = () => Promise<void> | void;

export interface Cleanup {
  /** Run after the test, last pushed first. */
  push(...fns: CleanupFn[]): void;
  /** A fresh temp directory, removed after the test. */
  tempDir(prefix: string): string;
}

/** Registers an afterEach that runs what the test pushed, in reverse order. */
export function useCleanup(): Cleanup {
  const fns: CleanupFn[] = [];
  afterEach(async () => {
    for (const c of fns.splice(0).reverse()) await c();
  });
  return {
    push: (...more) => void fns.push(...more),
    tempDir(prefix) {
      const dir = mkdtempSync(path.join(tmpdir(), prefix));
      fns.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
  };
}

/** Polls every 10 ms until `check` holds; fails naming `what` after `ms`. */
export async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A socat joining two raw ptys linked at `a` and `b` (the links appear shortly after). */
export function startSocat(a: string, b: string): ChildProcess {
  // socat is a test dependency (.ci/run installs it): missing, the test fails and says so.
  if (!['/usr/bin/socat', '/bin/socat', '/usr/local/bin/socat'].some((p) => existsSync(p))) {
    throw new Error('socat is not installed: apt-get install socat (.ci/run does it)');
  }
  return spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
}

/**
 * A socat pty pair linked at `<tmp>/<a>` and `<tmp>/<b>`, once both links exist. `restart()`
 * kills socat and starts a new one at the same links (a replugged device); the one alive
 * at the end is killed after the test.
 */
export async function ptyPair(c: Cleanup, prefix: string, names: [string, string] = ['host', 'dev']): Promise<{ a: string; b: string; kill(): void; restart(): Promise<void> }> {
  const dir = c.tempDir(prefix);
  const a = path.join(dir, names[0]);
  const b = path.join(dir, names[1]);
  let socat = startSocat(a, b);
  c.push(() => void socat.kill('SIGKILL'));
  const linked = () => waitFor(() => existsSync(a) && existsSync(b), 'pty links');
  await linked();
  return {
    a,
    b,
    kill: () => void socat.kill('SIGTERM'),
    restart: async () => {
      socat.kill('SIGKILL');
      socat = startSocat(a, b);
      await linked();
    },
  };
}
