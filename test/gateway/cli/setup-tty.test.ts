// `setup` at a terminal (a pseudo-terminal from script(1)): answers typed line by line,
// the PIN read without echo in the middle of the other prompts, and the questions after
// it still answered.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir, until } from '../../integration/helpers.js';

const dir = tempDir('setup-tty-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('setup on a terminal', () => {
  it('reads every answer from the terminal and the PIN without echoing it', async () => {
    const child = spawn('script', ['-qec', `'${process.execPath}' dist/gateway/cli/main.js setup`, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    let at = 0;
    const answers: [string, string][] = [
      ['[/etc/checkpoint]: ', path.join(dir, 'etc')],
      ['[/var/lib/checkpoint]: ', path.join(dir, 'data')],
      ['e.g. jinbei-mine): ', 'tty-site'],
      ['(e.g. main-gate): ', 'gate-1'],
      ['[mine-entrance]: ', ''],
      ['[in-1]: ', ''],
      ['name shown to guards [in-1]: ', ''],
      ['scanner: a number from the list, a device path, or sim [sim]: ', ''],
      ['thermometer: a number from the list, a device path, or sim [sim]: ', ''],
      ['relay: a number from the list, a device path, or sim [sim]: ', ''],
      ['[mqtt://127.0.0.1:1883]: ', ''],
      ['[8080]: ', ''],
      ['[new]: ', ''],
      ['a key pair made here: ', 'new'],
      ['a key pair made here: ', 'new'],
      ['[G-01]: ', ''],
      ['First guard: name: ', 'Wang'],
      ['PIN (6-12 digits): ', '97531864'],
      ['PIN again: ', '97531864'],
      ['(yes, no) [yes]: ', 'yes'],
    ];
    for (const [prompt, line] of answers) {
      await until(`"${prompt}" on the terminal`, () => {
        const i = output.indexOf(prompt, at);
        if (i >= 0) at = i + prompt.length;
        return i >= 0 ? true : undefined;
      }, 20_000);
      child.stdin.write(`${line}\r`);
    }
    expect(await exited).toBe(0);
    expect(output).toContain('tty-site'); // typed answers are echoed by the terminal
    expect(output).not.toContain('97531864');
    expect(output).toContain(`config check: ${path.join(dir, 'etc', 'gateway.yaml')}: OK (1 lane, site tty-site, checkpoint gate-1)`);
    expect(existsSync(path.join(dir, 'data', 'gateway.sqlite'))).toBe(true);
  }, 60_000);
});
