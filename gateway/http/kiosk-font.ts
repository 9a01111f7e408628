// The kiosk's own CJK font, served by the gateway so the screen never depends on the
// fonts of the checkpoint PC: with none installed every Chinese character is a box, and
// WenQuanYi Micro Hei has no "℃" (U+2103). The font is Noto Sans SC from the maintained
// @fontsource/noto-sans-sc package (SIL Open Font License), weights 400 and 700 (the
// screen uses no others), woff2 only (every Chromium reads it; the .woff twins are not
// served).
//
// Why not a static subset of the page's text: the screen shows text the page does not
// know in advance — masked names ("张*", any of ~27,000 hanzi), lane names from the
// config, regions in a risk-area reason. A subset cut from the catalogue would miss them
// and show boxes for exactly the person at the gate. The package's CSS splits the font
// into ~100 slices per weight, each with its unicode-range, so the browser fetches only
// the slices the characters on screen need (about 30 of the 202, 1 MB, for the kiosk's
// texts in both weights, once), and every character is still there, offline, from here.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const FONT_FAMILY = 'Noto Sans SC';
export const FONT_WEIGHTS = [400, 700] as const;
/** The stylesheet with the @font-face rules; the kiosk page links it. */
export const FONT_CSS_PATH = '/fonts/noto-sans-sc.css';
/** A font file: /fonts/noto-sans-sc-<package version>/<file>.woff2 (the version busts caches on upgrade). */
export const FONT_FILE_ROUTE = /^\/fonts\/noto-sans-sc-(\d+\.\d+\.\d+)\/(noto-sans-sc-[a-z0-9-]+-(?:400|700)-normal\.woff2)$/;

const PACKAGE = '@fontsource/noto-sans-sc';

export interface KioskFont {
  version: string;
  /** The @font-face rules of the served weights, pointing at this server. */
  css: string;
  /** The directory the font files are read from. */
  dir: string;
  /** The only file names served (those the CSS names). */
  files: ReadonlySet<string>;
}

/** Reads the package's CSS of the served weights and points it at FONT_FILE_ROUTE. */
export function loadKioskFont(fromUrl: string = import.meta.url): KioskFont {
  const require = createRequire(fromUrl);
  let root: string;
  try {
    root = dirname(require.resolve(`${PACKAGE}/400.css`));
  } catch (err) {
    throw new Error(`kiosk font: package ${PACKAGE} not found from ${fromUrl} (is it installed? it is a dependency in package.json)`, { cause: err });
  }
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const files = new Set<string>();
  const parts: string[] = [];
  for (const weight of FONT_WEIGHTS) {
    const source = readFileSync(join(root, `${weight}.css`), 'utf8');
    const srcLines = source.match(/^\s*src:.*$/gm) ?? [];
    let rewritten = 0;
    const css = source.replace(
      /src: url\(\.\/files\/([a-z0-9-]+\.woff2)\) format\('woff2'\), url\(\.\/files\/[a-z0-9-]+\.woff\) format\('woff'\);/g,
      (_whole, file: string) => {
        rewritten++;
        files.add(file);
        return `src: url(/fonts/noto-sans-sc-${version}/${file}) format('woff2');`;
      },
    );
    // A package whose CSS no longer looks like this would silently lose glyphs: say so.
    if (srcLines.length === 0 || rewritten !== srcLines.length) {
      throw new Error(`kiosk font: ${PACKAGE}@${version}/${weight}.css: expected every src: to be "url(./files/<name>.woff2) format('woff2'), url(./files/<name>.woff) format('woff')", rewrote ${rewritten} of ${srcLines.length}`);
    }
    parts.push(css);
  }
  for (const file of files) {
    if (!FONT_FILE_ROUTE.test(`/fonts/noto-sans-sc-${version}/${file}`)) throw new Error(`kiosk font: unexpected file name ${file} in ${PACKAGE}@${version}`);
  }
  const header = `/* ${FONT_FAMILY} ${FONT_WEIGHTS.join(' and ')} from ${PACKAGE}@${version} (SIL Open Font License 1.1), served by the gateway. */\n`;
  return { version, css: header + parts.join('\n'), dir: join(root, 'files'), files };
}
