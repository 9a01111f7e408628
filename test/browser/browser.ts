// Debian's Chromium driven by playwright-core: never `playwright install` (it downloads a
// browser). .ci/run installs the `chromium` package and a CJK font when missing.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from '../integration/helpers.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-output', 'screenshots');

export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // As on a kiosk PC: the admit/refuse tones may play without a click first.
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export function shot(name: string): string {
  return path.join(SCREENSHOTS, name);
}

/** A Full HD kiosk screen of `lane` on the gateway at `url`, once it shows its first view. */
export async function openKiosk(url: string, lane: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(`${url}/?lane=${lane}`);
  await page.waitForSelector('body[data-view="waiting"]');
  return { browser, page };
}
