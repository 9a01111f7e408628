// `central tail`: the office's view of every checkpoint, duplicates dropped by id (summaries by checkpoint and date).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { ROOT, cli, cliFails, tempDir, until } from './helpers.js';

describe('central tail', () => {
  it('prints events, alerts and daily screening summaries of every checkpoint of a site once each, dropping duplicates', async () => {
    const site = `itt-${randomBytes(4).toString('hex')}`;
    const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'central', 'tail', '--site', site, '--count', '4', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until('tail subscribed', () => (stderr.includes('tailing') ? true : undefined));

    const pub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `it-pub-${site}` });
    const a = { v: 1, id: randomUUID(), seq: 1 };
    const b = { v: 1, id: randomUUID(), seq: 2 };
    const c = { v: 1, id: randomUUID(), kind: 'fever' };
    await pub.publishAsync(`checkpoints/${site}/gate-1/events`, JSON.stringify(a), { qos: 1 });
    await pub.publishAsync(`checkpoints/${site}/gate-1/events`, JSON.stringify(a), { qos: 1 }); // a re-send
    await pub.publishAsync(`checkpoints/${site}/gate-2/events`, JSON.stringify(b), { qos: 1 });
    const summary = { v: 1, at: '2024-12-05T00:00:30.000Z', site, checkpoint: 'gate-1', date: '2024-12-04', workers: 3, screened: 2, notScreened: 1, firstOutcomes: { admit: 2, refuse: 0, refer: 0 } };
    await pub.publishAsync(`checkpoints/${site}/gate-1/screening`, JSON.stringify(summary), { qos: 1 });
    await pub.publishAsync(`checkpoints/${site}/gate-1/screening`, JSON.stringify({ ...summary, at: '2024-12-05T00:01:30.000Z' }), { qos: 1 }); // re-sent after a restart
    await pub.publishAsync(`checkpoints/${site}/gate-2/alerts`, JSON.stringify(c), { qos: 1 });
    await pub.endAsync();

    expect(await exited).toBe(0);
    const got = lines.map((l) => JSON.parse(l) as { topic: string; payload: { id?: string; date?: string } });
    expect(got.map((g) => [g.topic.split('/').slice(2).join('/'), g.payload.id ?? g.payload.date])).toEqual([
      ['gate-1/events', a.id],
      ['gate-2/events', b.id],
      ['gate-1/screening', '2024-12-04'],
      ['gate-2/alerts', c.id],
    ]);
  });

  it('prints readable lines in China time without --json', async () => {
    const site = `itt-${randomBytes(4).toString('hex')}`;
    const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'central', 'tail', '--site', site, '--count', '2'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await until('tail subscribed', () => (stderr.includes('tailing') ? true : undefined));
    const pub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `it-pub-${site}` });
    const event = { v: 1, id: randomUUID(), seq: 7, at: '2024-12-04T23:30:00.000Z', site, checkpoint: 'gate-1', lane: 'in-1', kind: 'decision', outcome: 'admit', reasons: [], alerts: [], credential: 'staff-badge', subject: 'p1_Yx3lQ0c2m5VbN8aK1tR9wE', category: 'employee', temperature: 36.5 };
    await pub.publishAsync(`checkpoints/${site}/gate-1/events`, JSON.stringify(event), { qos: 1 });
    await pub.publishAsync(`checkpoints/${site}/gate-1/alerts`, JSON.stringify({ v: 1, id: randomUUID(), at: '2024-12-04T23:31:00.000Z', lane: 'in-1', kind: 'fever', severity: 'critical', code: 'TEMP_FEVER', detail: 'Temperature 38.2 °C' }), { qos: 1 });
    await pub.endAsync();
    expect(await exited).toBe(0);
    expect(lines).toEqual([
      `2024-12-05 07:30:00  ${site}/gate-1  #7  in-1  admit   -  36.5 °C  staff-badge  employee  p1_Yx3lQ0c2m5VbN8aK1tR9wE`,
      `2024-12-05 07:31:00  ${site}/gate-1  ALERT critical fever  in-1  TEMP_FEVER  Temperature 38.2 °C`,
    ]);
  });

  it('generates a central key pair and refuses to overwrite it', async () => {
    const dir = tempDir('central-keys-');
    await cli(['central', 'keys', 'generate', '--kid', 'office-2026', '--out', dir]);
    const again = await cliFails(['central', 'keys', 'generate', '--kid', 'office-2026', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('refusing to overwrite');
  });
});
