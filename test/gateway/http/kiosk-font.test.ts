// The kiosk's own CJK font (gateway/http/kiosk-font.ts): the stylesheet of weights 400 and
// 700 pointing at this server, and only the woff2 files it names, under a strict route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FONT_CSS_PATH, loadKioskFont } from '../../../gateway/http/kiosk-font.js';
import { errorOf, startHarness, type Harness } from './helpers.js';

const font = loadKioskFont();
const file = (slice: string, weight: number): string => `/fonts/noto-sans-sc-${font.version}/noto-sans-sc-${slice}-${weight}-normal.woff2`;

describe('the kiosk font stylesheet', () => {
  it('names weights 400 and 700 only, each slice with its unicode-range, woff2 from this server only', () => {
    const faces = font.css.match(/@font-face \{[^}]*\}/g) ?? [];
    expect(faces.length).toBeGreaterThan(150);
    for (const face of faces) {
      expect(face).toMatch(/font-family: 'Noto Sans SC';/);
      expect(face).toMatch(/font-weight: (400|700);/);
      expect(face).toMatch(/unicode-range: U\+/);
      expect(face).toMatch(new RegExp(`src: url\\(/fonts/noto-sans-sc-${font.version.replaceAll('.', '\\.')}/noto-sans-sc-[a-z0-9-]+-(400|700)-normal\\.woff2\\) format\\('woff2'\\);`));
    }
    expect(font.css).not.toMatch(/\.\/files|\.woff\)|https?:/);
    expect(font.files.size).toBe(faces.length);
    // "℃" (U+2103), missing from WenQuanYi Micro Hei, is in one of the slices.
    expect(font.css).toMatch(/U\+2103/);
  });
});

describe('the kiosk font routes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('serves the stylesheet as CSS, and the kiosk page links it', async () => {
    const res = await fetch(`${h.url}${FONT_CSS_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await res.text()).toBe(font.css);
    expect(await (await fetch(`${h.url}/`)).text()).toContain(`<link rel="stylesheet" href="${FONT_CSS_PATH}">`);
  });

  it('serves a named woff2 file, cacheable for good (its URL carries the package version)', async () => {
    const res = await fetch(`${h.url}${file('107', 400)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('font/woff2');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('wOF2');
    expect((await fetch(`${h.url}${file('latin', 700)}`)).status).toBe(200);
  });

  it('answers 404 JSON for any other file: another weight, the .woff twin, another version, a path out of the folder', async () => {
    for (const path of [
      file('107', 100),
      file('107', 400).replace('.woff2', '.woff'),
      `/fonts/noto-sans-sc-0.0.1/noto-sans-sc-107-400-normal.woff2`,
      `/fonts/noto-sans-sc-${font.version}/..%2Fpackage.json`,
      `/fonts/noto-sans-sc-${font.version}/noto-sans-sc-999-400-normal.woff2`,
      '/fonts/',
      '/fonts/400.css',
    ]) {
      const res = await fetch(`${h.url}${path}`);
      expect(res.status, path).toBe(404);
      expect((await errorOf(res)).code, path).toBe('NOT_FOUND');
    }
  });
});
