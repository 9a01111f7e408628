// The two programs stay apart: the gateway never loads central/ (only the CLI's
// `central serve` / `central events` import it, dynamically), and central/ uses only the
// gateway's pure parts and message contracts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

const staticImports = (file: string): string[] =>
  [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => path.join(path.dirname(file), m[1]!));

describe('program boundaries', () => {
  it('no gateway or driver module imports central/ statically', () => {
    const offenders = [...tsFiles('gateway'), ...tsFiles('drivers')].flatMap((f) => staticImports(f).filter((i) => i.startsWith('central/')).map((i) => `${f} → ${i}`));
    expect(offenders).toEqual([]);
  });

  it('central/ imports only the gateway\'s pure parts and message contracts', () => {
    const allowed = new Set([
      'gateway/errors.js',
      'gateway/version.js',
      'gateway/config/load.js',
      'gateway/updates/envelope.js',
      'gateway/updates/sign.js',
      'gateway/updates/errors.js',
      // The keyed pseudonym (pure): the office maps its roster to what events carry.
      'gateway/telemetry/pseudonym.js',
      // Recognising the demo's published secret and keys (the office refuses them too, unless a demo).
      'gateway/config/demo-material.js',
      // The reason catalogue and China-time days (pure): the charts name reasons in words, by China day.
      'gateway/policy/reasons.js',
      'gateway/policy/time.js',
      // Visitor approvals and crews: the office refuses what a gateway would (pure zod checks, shared types).
      'gateway/store/validate.js',
      'gateway/policy/types.js',
      // The office console reuses the gateway's HTTP edge pieces (no lane, store or device code).
      'gateway/guards/pin.js',
      'gateway/http/access.js',
      'gateway/http/body.js',
      // Contact-tracing export: the ledger export's CSV cells (BOM, CRLF, formulas defused).
      'gateway/http/csv.js',
      'gateway/http/errors.js',
      'gateway/http/hosts.js',
      'gateway/http/security.js',
      // The daily screening: the gateway's own rules (worker categories, the China-time
      // day), its roster CSV format, and its spreadsheet-safe CSV cells (all pure).
      'gateway/screening/report.js',
      'gateway/store/roster-csv.js',
      'gateway/http/csv.js',
    ]);
    const used = tsFiles('central').flatMap((f) => staticImports(f).filter((i) => i.startsWith('gateway/')).map((i) => `${f} → ${i}`));
    expect(used.filter((u) => !allowed.has(u.split(' → ')[1]!))).toEqual([]);
  });
});
