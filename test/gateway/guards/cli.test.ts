// `guards add|remove|list` through the built CLI, the PIN on standard input.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir, writeConfig } from '../../integration/helpers.js';

let dir: string;
let config: string;

function run(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'guards', ...args, '--config', config], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

beforeAll(() => {
  dir = tempDir('gw-guards-cli-');
  config = writeConfig(dir, 'guards-cli');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('guards command line', () => {
  it('adds a guard with the PIN from standard input and lists it, never printing the PIN', async () => {
    const added = await run(['add', 'G-01', '--name', '王保安'], '24681357\n');
    expect(added).toMatchObject({ code: 0 });
    expect(added.stderr).toContain('guard G-01 (王保安) added');
    expect(added.stdout + added.stderr).not.toContain('24681357');
    const list = await run(['list', '--json']);
    expect(list.code).toBe(0);
    const rows = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toEqual([{ id: 'G-01', name: '王保安', createdAt: expect.any(String), lockedUntil: null }]);
  });

  it('refuses a short PIN, a bad id and a duplicate with exit code 2 and a stable code', async () => {
    const short = await run(['add', 'G-02', '--name', '李'], '1234\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('GUARD_INVALID_PIN');
    const badId = await run(['add', 'G 03', '--name', '李'], '123456\n');
    expect(badId.stderr).toContain('GUARD_INVALID_ID');
    const dup = await run(['add', 'G-01', '--name', '王'], '123456\n');
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('GUARD_EXISTS');
  });

  it('removes a guard, and says so when there is none', async () => {
    expect((await run(['remove', 'G-01'])).code).toBe(0);
    expect((await run(['list'])).stdout).toBe('');
    const again = await run(['remove', 'G-01']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('GUARD_UNKNOWN');
  });
});
