// The kiosk screen in a real browser against the built gateway process: sim scans turn
// it green or red, a referral amber, a second reading amber with an arrow, an unplugged
// scanner or a killed gateway "out of service"; its text in the gateway's own font; it
// speaks with a Chinese voice where there is one and plays tones where there is none.
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, postJson, startGatewayProcess, type GatewayProcess } from '../integration/helpers.js';
import { openKiosk, shot } from './browser.js';
import { fontsOf } from './kiosk-helpers.js';

let gw: GatewayProcess;
let browser: Browser;
let page: Page;

async function issue(...args: string[]): Promise<string> {
  return (await cli(['pass', 'issue', ...args])).stdout.trim();
}

async function present(pass: string, celsius?: number): Promise<void> {
  if (celsius !== undefined) expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius })).status).toBe(202);
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/scan`, { payload: pass })).status).toBe(202);
}

async function view(kind: string): Promise<void> {
  await page.waitForSelector(`body[data-view="${kind}"]`, { timeout: 10_000 });
}

async function device(name: string, state: string): Promise<void> {
  expect((await postJson(`${gw.url}/api/sim/lanes/in-1/devices/${name}`, { state })).status).toBe(202);
}

beforeAll(async () => {
  gw = await startGatewayProcess({ site: `br-${randomBytes(4).toString('hex')}` });
  ({ browser, page } = await openKiosk(gw.url, 'in-1'));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  expect(await gw?.stop()).toBe(0);
});

describe('kiosk screen in Chromium', () => {
  it('waits for a pass, reminding of masks and distance, in Chinese first', async () => {
    await view('waiting');
    const text = await page.locator('[data-view-of="waiting"]').innerText();
    expect(text).toContain('请出示通行码');
    expect(text).toContain('请佩戴口罩');
    expect(text.indexOf('请出示通行码')).toBeLessThan(text.indexOf('Please show your pass'));
    await page.screenshot({ path: shot('kiosk-1-waiting.png') });
  });

  it('turns green with the masked name and the temperature to one decimal for a good pass, and plays the admit tone', async () => {
    await present(await issue('--name', '张三'), 36.54);
    await view('admit');
    expect(await page.locator('#admit-name').innerText()).toBe('张*');
    expect(await page.locator('#admit-temp').innerText()).toBe('36.5 °C');
    const bg = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect(bg).toBe('rgb(10, 122, 47)');
    expect(await page.evaluate<string>('document.body.dataset.tone')).toMatch(/^admit:/);
    expect(await page.content()).not.toContain('张三');
    await page.screenshot({ path: shot('kiosk-2-admit.png') });
  });

  it('asks for the temperature when a pass is scanned first', async () => {
    await present(await issue('--name', '王五'));
    await view('measuring');
    expect(await page.locator('#prompt-zh').innerText()).toContain('测');
    await page.screenshot({ path: shot('kiosk-3-measuring.png') });
    expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 36.7 })).status).toBe(202);
    await view('admit');
    expect(await page.locator('#admit-name').innerText()).toBe('王*');
  });

  it('asks to measure again in amber with a circling arrow, unlike the first "please measure", and refuses a confirmed fever with ℃ in the gateway\'s font', async () => {
    await present(await issue('--name', '孙七'));
    await view('measuring');
    const teal = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 37.6 })).status).toBe(202);
    await view('remeasure');
    const amber = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect(amber).toBe('rgb(255, 143, 0)');
    expect(amber).not.toBe(teal);
    expect(await page.locator('[data-view-of="remeasure"] .remeasure-icon').isVisible()).toBe(true);
    expect(await page.locator('#remeasure-zh').innerText()).toBe('体温37.6℃，请再测一次');
    expect(await page.locator('[data-view-of="measuring"]').isVisible()).toBe(false);
    await page.screenshot({ path: shot('kiosk-3b-remeasure.png') });

    expect((await postJson(`${gw.url}/api/sim/lanes/in-1/temperature`, { celsius: 37.6 })).status).toBe(202);
    await view('refuse');
    const fever = page.locator('#refuse-reasons li[data-code="TEMP_FEVER"] .reason .zh');
    expect(await fever.innerText()).toBe('体温偏高（37.6℃）');
    await page.evaluate('document.fonts.ready.then(() => true)');
    await page.screenshot({ path: shot('kiosk-3c-fever.png') });
    // The page asks for the gateway's font, and the browser drew this text with it (℃ included).
    expect(await page.evaluate<string>('getComputedStyle(document.body).fontFamily')).toMatch(/^"Noto Sans SC"/);
    for (const weight of ['400', '700']) {
      expect(await page.evaluate<boolean>(`document.fonts.check('${weight} 28px "Noto Sans SC"', '℃体温')`), weight).toBe(true);
    }
    const loaded = await page.evaluate<string[]>(
      `[...document.fonts].filter((f) => f.family.replaceAll('"', '') === 'Noto Sans SC' && f.status === 'loaded').map((f) => f.unicodeRange)`,
    );
    expect(loaded.some((r) => /U\+2103/i.test(r))).toBe(true);
    // Every glyph from a web font (@font-face: ours is the only one) named Noto Sans SC (the
    // files' own name table says which instance, e.g. "Noto Sans SC Thin").
    for (const selector of ['#refuse-reasons li[data-code="TEMP_FEVER"] .reason .zh', '[data-view-of="refuse"] h1.zh', '#refuse-name']) {
      const used = (await fontsOf(page, selector)).filter((f) => f.glyphCount > 0);
      expect(used.length, selector).toBeGreaterThan(0);
      for (const f of used) {
        expect(f.familyName, selector).toMatch(/^Noto Sans SC/);
        expect(f.isCustomFont, selector).toBe(true);
      }
    }
  });

  it('turns red for a red health code with the Chinese reason and what to do next', async () => {
    await present(await issue('--name', '李四', '--health-code', 'red'), 36.6);
    await view('refuse');
    const reasons = page.locator('#refuse-reasons li[data-code="HEALTH_CODE_RED"]');
    await reasons.waitFor();
    const text = await reasons.innerText();
    expect(text).toContain('健康码为红码');
    expect(text).toContain('Health code is red');
    expect(text).toContain('请在一旁等候，工作人员将与您联系');
    expect(await page.locator('#refuse-name').innerText()).toBe('李*');
    expect(await page.evaluate<string>('getComputedStyle(document.body).backgroundColor')).toBe('rgb(179, 38, 30)');
    expect(await page.evaluate<string>('document.body.dataset.tone')).toMatch(/^refuse:/);
    await page.screenshot({ path: shot('kiosk-4-refuse.png') });
    await page.setViewportSize({ width: 800, height: 480 });
    await page.waitForSelector('[data-view-of="refuse"][data-fitted-to="800x480"]');
    await page.screenshot({ path: shot('kiosk-5-refuse-800x480.png') });
    // On the small panel the reason and the next step are still inside the screen.
    const box = await reasons.boundingBox();
    expect(box).not.toBeNull();
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(480);
    expect(await reasons.locator('.next .zh').isVisible()).toBe(true);
    const px = await page.evaluate<number>(`parseFloat(getComputedStyle(document.querySelector('#refuse-reasons li .reason .zh')).fontSize)`);
    expect(px).toBeGreaterThanOrEqual(28);
    await page.setViewportSize({ width: 1920, height: 1080 });
  });

  it('turns amber and calls the staff for a code it cannot read', async () => {
    await present('hello, this is not a pass', 36.6);
    await view('refer');
    expect(await page.locator('[data-view-of="refer"]').innerText()).toContain('请等待工作人员');
    await page.screenshot({ path: shot('kiosk-6-refer.png') });
  });

  it('shows "out of service" naming the scanner while it is unplugged, and waits again once it is back', async () => {
    await device('scanner', 'disconnected');
    await view('out-of-service');
    const text = await page.locator('[data-view-of="out-of-service"]').innerText();
    expect(text).toContain('暂停使用');
    expect(text).toContain('Out of service');
    expect(await page.locator('#oos-devices').innerText()).toContain('扫码器');
    await page.screenshot({ path: shot('kiosk-7-out-of-service.png') });
    await device('scanner', 'connected');
    await page.waitForSelector('body:not([data-view="out-of-service"])');
  });

  it('loads page, stylesheet and scripts under 200 kB and only some slices of its font, every byte from the gateway itself', async () => {
    const fresh = await browser.newPage();
    const sizes: { url: string; bytes: number }[] = [];
    fresh.on('response', (res) => {
      if (res.url().includes('/api/stream')) return;
      void res.body().then(
        (b) => sizes.push({ url: res.url(), bytes: b.length }),
        () => undefined,
      );
    });
    await fresh.goto(`${gw.url}/?lane=in-1`);
    await fresh.waitForSelector('body[data-view]');
    await fresh.evaluate('document.fonts.ready.then(() => true)');
    await fresh.waitForLoadState('networkidle').catch(() => undefined);
    await fresh.close();
    for (const s of sizes) expect(s.url.startsWith(gw.url)).toBe(true);
    // The font: its stylesheet (~200 kB of unicode-range lists, cached) and the slices.
    const fonts = sizes.filter((s) => s.url.includes('/fonts/'));
    const rest = sizes.filter((s) => !s.url.includes('/fonts/'));
    const total = (list: typeof sizes): number => list.reduce((a, s) => a + s.bytes, 0);
    expect(rest.length).toBeGreaterThanOrEqual(4);
    expect(total(rest)).toBeLessThan(200 * 1024);
    // The font comes in ~200 slices (two weights); a screen needs a few of them.
    expect(fonts.length).toBeGreaterThan(1);
    expect(fonts.length).toBeLessThan(60);
    expect(total(fonts)).toBeLessThan(1536 * 1024);
    console.log(`kiosk load: ${total(rest)} B page, stylesheet and scripts; font: ${fonts.length} files (stylesheet + slices), ${total(fonts)} B`);
  });

  it('says "请通行" and "禁止通行, reason" aloud with a Chinese voice where the browser has one, and plays no tone then', { timeout: 60_000 }, async () => {
    const voiced = await kioskWithVoices([{ lang: 'zh-CN', name: 'Mandarin' }, { lang: 'en-US', name: 'English' }]);
    await present(await issue('--name', '钱九'), 36.5);
    await voiced.waitForSelector('body[data-view="admit"]', { timeout: 10_000 });
    await present(await issue('--name', '钱九', '--health-code', 'red'), 36.5);
    await voiced.waitForSelector('body[data-view="refuse"]', { timeout: 10_000 });
    await expect.poll(() => spoken(voiced)).toHaveLength(2);
    const said = await spoken(voiced);
    expect(said[0]).toEqual({ text: '请通行', lang: 'zh-CN', voice: 'zh-CN' });
    expect(said[1]).toEqual({ text: '禁止通行，健康码为红码', lang: 'zh-CN', voice: 'zh-CN' });
    expect(await voiced.evaluate<string | undefined>('document.body.dataset.tone')).toBeUndefined();
    await voiced.close();
  });

  it('plays the tones instead where the browser has no Chinese voice', { timeout: 60_000 }, async () => {
    const mute = await kioskWithVoices([{ lang: 'en-US', name: 'English' }]);
    await present(await issue('--name', '吴十', '--health-code', 'red'), 36.5);
    await mute.waitForSelector('body[data-view="refuse"]', { timeout: 10_000 });
    await expect.poll(() => mute.evaluate<string | undefined>('document.body.dataset.tone')).toMatch(/^refuse:/);
    expect(await spoken(mute)).toEqual([]);
    await mute.close();
  });

  it('goes out of service when its gateway hangs with the connection open, and comes back when it runs again', { timeout: 60_000 }, async () => {
    await view('waiting');
    gw.child.kill('SIGSTOP'); // the process freezes; its sockets stay open
    try {
      await page.waitForSelector('body[data-view="out-of-service"]', { timeout: 15_000 });
      expect(await page.locator('[data-view-of="out-of-service"]').innerText()).toContain('系统连接中断');
    } finally {
      gw.child.kill('SIGCONT');
    }
    await view('waiting');
  });

  // Last: it kills the gateway and starts another on the same port.
  it('goes out of service within seconds of its gateway being killed, and comes back by itself when a gateway runs again', { timeout: 60_000 }, async () => {
    await view('waiting');
    const port = new URL(gw.url).port;
    gw.child.kill('SIGKILL');
    await gw.stop();
    // The grace is 3 s; the wait is generous so a loaded machine does not fail the test.
    await page.waitForSelector('body[data-view="out-of-service"]', { timeout: 15_000 });
    const text = await page.locator('[data-view-of="out-of-service"]').innerText();
    expect(text).toContain('暂停使用');
    expect(text).toContain('Out of service');
    expect(text).toContain('系统连接中断，请联系工作人员');
    expect(await page.locator('[data-view-of="waiting"]').isVisible()).toBe(false);
    expect(await page.locator('#occupancy').isVisible()).toBe(false);
    await page.screenshot({ path: shot('kiosk-8-gateway-gone.png') });
    await page.setViewportSize({ width: 800, height: 480 });
    await page.screenshot({ path: shot('kiosk-8b-gateway-gone-800x480.png') });
    await page.setViewportSize({ width: 1920, height: 1080 });
    gw = await startGatewayProcess({ site: `br-${randomBytes(4).toString('hex')}`, env: { HTTP_PORT: port } });
    await view('waiting');
    await page.waitForSelector('#conn[hidden]', { state: 'attached', timeout: 15_000 });
    await present(await issue('--name', '周八'), 36.5);
    await view('admit');
    expect(await page.locator('#admit-name').innerText()).toBe('周*');
  });
});

/**
 * A second kiosk of the same lane whose browser offers these voices: window.speechSynthesis
 * is replaced before the page loads by one that lists them and records what it is asked to
 * say (observing the browser API; the page's own code runs as it is).
 */
async function kioskWithVoices(voices: { lang: string; name: string }[]): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await p.addInitScript((list) => {
    const w = globalThis as unknown as Record<string, unknown>;
    const said: { text: string; lang: string; voice: string | null }[] = [];
    w['__spoken'] = said;
    class Utterance {
      text: string;
      lang = '';
      voice: { lang: string } | null = null;
      constructor(text: string) {
        this.text = text;
      }
    }
    const synth = {
      getVoices: () => list.map((v) => ({ ...v, default: false, localService: true, voiceURI: v.name })),
      speak: (u: Utterance) => said.push({ text: u.text, lang: u.lang, voice: u.voice?.lang ?? null }),
      cancel: () => undefined,
      addEventListener: () => undefined,
    };
    Object.defineProperty(globalThis, 'speechSynthesis', { value: synth, configurable: true });
    Object.defineProperty(globalThis, 'SpeechSynthesisUtterance', { value: Utterance, configurable: true });
  }, voices);
  await p.goto(`${gw.url}/?lane=in-1`);
  await p.waitForSelector('body[data-view="waiting"]');
  return p;
}

function spoken(p: Page): Promise<{ text: string; lang: string; voice: string | null }[]> {
  return p.evaluate('window.__spoken');
}
