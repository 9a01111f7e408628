// `guards add` at a terminal (a pseudo-terminal from script(1)): the PIN is checked
// before it is asked for a second time, and an existing id before the PIN is asked at all.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir, until, writeConfig } from '../../integration/helpers.js';

let dir: string;
let config: string;

beforeAll(() => {
  dir = tempDir('gw-guards-tty-');
  config = writeConfig(dir, 'guards-tty');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `guards add` on a pseudo-terminal; `answer` types a line once the text it waits for is shown. */
async function onTerminal(args: string[], answers: [waitFor: string, line: string][]): Promise<{ code: number | null; output: string }> {
  const child = spawn('script', ['-qec', [process.execPath, 'dist/gateway/cli/main.js', 'guards', ...args, '--config', config].map((a) => `'${a}'`).join(' '), '/dev/null'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  for (const [waitFor, line] of answers) {
    await until(`"${waitFor}" on the terminal`, () => (output.includes(waitFor) ? true : undefined), 15_000);
    child.stdin.write(`${line}\r`);
  }
  return { code: await exited, output: output.replace(/\r/g, '') };
}

describe('guards add on a terminal', () => {
  it('refuses a PIN that is too short before asking for it again', async () => {
    const { code, output } = await onTerminal(['add', 'G-10', '--name', '王保安'], [['PIN (6-12 digits): ', '123']]);
    expect(code).toBe(2);
    expect(output).toContain('error: [GUARD_INVALID_PIN] PIN: expected 6 to 12 digits');
    expect(output).not.toContain('PIN again');
  });

  it('adds a guard after the PIN is typed twice, and refuses the same id again before asking for a PIN', async () => {
    const added = await onTerminal(['add', 'G-11', '--name', '李保安'], [
      ['PIN (6-12 digits): ', '24681357'],
      ['PIN again: ', '24681357'],
    ]);
    expect(added.code).toBe(0);
    expect(added.output).toContain('guard G-11 (李保安) added');
    expect(added.output).not.toContain('24681357');
    const again = await onTerminal(['add', 'G-11', '--name', '李保安'], []);
    expect(again.code).toBe(2);
    expect(again.output).toContain('guard G-11 exists already');
    expect(again.output).not.toContain('PIN (6-12 digits)');
  });
});
