// `central officers add|list|remove` of the built CLI against the configured database
// (PGlite folder here): the password from a pipe, refusals with exit code 2, and the
// audit rows naming the command line as the client.
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb } from '../../../central/db/adapter.js';
import { recentAudit } from '../../../central/web/audit.js';
import { Officers } from '../../../central/web/officers.js';
import { ROOT } from '../../integration/helpers.js';
import { Cleanup, freePort, tempDir } from '../../gateway/telemetry/helpers.js';
import { startServiceProcess } from '../process.js';
import { writeServiceConfig } from '../helpers.js';
import { PASSWORD } from './helpers.js';

function cli(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'central', 'officers', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('central officers (CLI)', () => {
  let cleanup: Cleanup;
  beforeEach(() => {
    cleanup = new Cleanup();
  });
  afterEach(() => cleanup.run());

  it('adds an officer with a piped password, lists and removes it, and refuses a short password or an unknown role', async () => {
    const dataDir = await tempDir(cleanup, 'officers-cli');
    const config = await writeServiceConfig({ dataDir, databaseUrl: null, mqttUrl: 'mqtt://127.0.0.1:1', clientId: 'office-cli', prefix: 'test' });
    const add = await cli(['add', 'wang.li', '--name', '王丽', '--role', 'duty-leader', '--config', config], `${PASSWORD}\n`);
    expect(add.stderr).toContain('officer wang.li (王丽, duty-leader) added');
    expect(add.code).toBe(0);
    const short = await cli(['add', 'zhao.min', '--name', '赵敏', '--role', 'viewer', '--config', config], '123456789\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('OFFICER_INVALID');
    const role = await cli(['add', 'zhao.min', '--name', '赵敏', '--role', 'root', '--config', config], `${PASSWORD}\n`);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('viewer, duty-leader, admin');
    const list = await cli(['list', '--json', '--config', config]);
    expect(list.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ id: 'wang.li', name: '王丽', role: 'duty-leader', lockedUntil: null }]);

    // The stored hash takes the piped password (and only it: the newline is not part of it).
    const db = await openDb({ url: null, dataDir });
    try {
      const officers = new Officers(db, { maxFailures: 5, lockoutMs: 60_000 });
      expect((await officers.signIn('wang.li', PASSWORD, 'test')).ok).toBe(true);
      expect((await recentAudit(db)).map((a) => a.client)).toEqual(['test', expect.stringMatching(/^cli:/)]);
    } finally {
      await db.close();
    }
    expect((await cli(['remove', 'wang.li', '--config', config])).code).toBe(0);
    const again = await cli(['remove', 'wang.li', '--config', config]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('OFFICER_UNKNOWN');
    expect((await cli(['list', '--config', config])).stderr).toContain('0 officers');
  }, 60_000);

  it('refuses to open a PGlite folder the running service holds', async () => {
    const dataDir = await tempDir(cleanup, 'officers-cli-busy');
    const config = await writeServiceConfig({ dataDir, databaseUrl: null, mqttUrl: `mqtt://127.0.0.1:${await freePort()}`, clientId: 'office-busy', prefix: 'test', httpPort: await freePort() });
    await startServiceProcess(cleanup, config);
    const busy = await cli(['add', 'wang.li', '--name', '王丽', '--role', 'viewer', '--config', config], `${PASSWORD}\n`);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toContain('OFFICER_DB_BUSY');
  }, 60_000);
});
