import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, TestLane, type Harness } from './helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('kiosk page and assets', () => {
  let h: Harness;

  beforeAll(async () => {
    // The server serves the compiled browser script; build it as `npm run build` would.
    execFileSync(`${root}node_modules/.bin/tsc`, ['-p', 'kiosk-ui/tsconfig.json'], { cwd: root, stdio: 'pipe' });
    h = await startHarness({
      lanes: [new TestLane('north', { name: '北门 1' }), new TestLane('south'), new TestLane('x"><b>', { name: '<script>' })],
      kioskResetMs: 7000,
    });
  });
  afterAll(async () => {
    await h.close();
  });

  it('serves the kiosk page for the first lane when no lane is asked for', async () => {
    const res = await fetch(`${h.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('data-lane="north"');
    expect(html).toContain('北门 1');
    expect(html).toContain('请出示通行码');
    expect(html).toContain('Please show your pass');
    expect(html).toContain('<html lang="zh-CN">');
  });

  it('serves the kiosk page of the lane named in ?lane= with the reset time in it', async () => {
    const res = await fetch(`${h.url}/?lane=south`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-lane="south"');
    expect(html).toContain('data-reset-ms="7000"');
    expect(html).toMatch(/data-server-now="\d+"/);
    expect(html).not.toMatch(/\{\{\w+\}\}/);
  });

  it('escapes lane ids and names that contain markup', async () => {
    const html = await (await fetch(`${h.url}/?lane=${encodeURIComponent('x"><b>')}`)).text();
    expect(html).toContain('data-lane="x&quot;&gt;&lt;b&gt;"');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('<script>');
  });

  it('answers an unknown lane with a 400 page that names it and links the real lanes', async () => {
    const res = await fetch(`${h.url}/?lane=west`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('Unknown lane “west”');
    expect(html).toContain('href="/?lane=north"');
    expect(html).toContain('href="/?lane=south"');
  });

  it('locks the kiosk page to its own scripts with a content security policy', async () => {
    const res = await fetch(`${h.url}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves the compiled kiosk script and the modules it imports', async () => {
    const res = await fetch(`${h.url}/kiosk.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    const js = await res.text();
    expect(js).toContain('EventSource');
    const imports = [...js.matchAll(/from '\.\/([\w-]+\.js)'/g)].map((m) => m[1]);
    expect(imports).toContain('kiosk-view.js');
    for (const file of imports) {
      const dep = await fetch(`${h.url}/${file ?? ''}`);
      expect(dep.status, file).toBe(200);
      await dep.arrayBuffer();
    }
  });

  it('serves the stylesheet', async () => {
    const res = await fetch(`${h.url}/kiosk.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await res.text()).toContain('clamp(');
  });

  it('answers a script that does not exist with 404 JSON', async () => {
    const res = await fetch(`${h.url}/nothing-here.js`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});

describe('kiosk page without lanes', () => {
  it('says that no lanes are configured, with 503', async () => {
    const h = await startHarness({ lanes: [] });
    try {
      const res = await fetch(`${h.url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('no lanes configured');
    } finally {
      await h.close();
    }
  });
});
