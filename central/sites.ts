// The sites the office knows and the pseudonym secret of each (config `sites`): with it
// the office maps a roster entry (staff id) to the pseudonym its gateways put in events,
// for the daily screening and contact tracing. The secret stays in this process.
import { readFileSync } from 'node:fs';
import { pseudonymizer, secretFromHex } from '../gateway/telemetry/pseudonym.js';
import { CentralError } from './errors.js';

export interface SiteInfo {
  id: string;
  name: string | null;
}

export class SiteKeys {
  readonly #by = new Map<string, { name: string | null; pseudonym: (subjectId: string) => string }>();

  /** Reads every site's secret now: a missing or malformed file stops the start (CENTRAL_SECRET_INVALID). */
  static load(sites: Record<string, { name?: string | undefined }>, secretFiles: Record<string, string>): SiteKeys {
    const keys = new SiteKeys();
    for (const [id, s] of Object.entries(sites)) {
      const file = secretFiles[id];
      if (file === undefined) continue;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new CentralError('CENTRAL_SECRET_INVALID', `sites.${id}.pseudonymSecretFile ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      const secret = secretFromHex(text);
      if (secret === null) throw new CentralError('CENTRAL_SECRET_INVALID', `sites.${id}.pseudonymSecretFile ${file}: expected at least 32 bytes as hex (64+ hex digits)`);
      keys.add(id, secret, s.name ?? null);
    }
    return keys;
  }

  add(site: string, secret: Buffer, name: string | null = null): void {
    this.#by.set(site, { name, pseudonym: pseudonymizer(secret) });
  }

  list(): SiteInfo[] {
    return [...this.#by].map(([id, s]) => ({ id, name: s.name }));
  }

  has(site: string): boolean {
    return this.#by.has(site);
  }

  /** The pseudonym the site's gateways give `staffId`; null for a site without a secret here. */
  pseudonymOf(site: string, staffId: string): string | null {
    return this.#by.get(site)?.pseudonym(staffId) ?? null;
  }
}
