// The demo's keys and secret are published with the source code: a gate that trusts the
// demo pass issuer admits passes anyone can forge, one that trusts the demo office takes
// updates from anyone, and the demo pseudonym secret lets anyone map the site's
// pseudonyms back to staff ids. They are recognised by what they are (the public key,
// a fingerprint of the secret), not by where they lie: a copy under /etc is still the
// demo's. Only a configuration that says `demo: true` may use them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TRUST_FILE_SUFFIX } from './trust.js';

/** The demo's public keys (JWK `x`), as committed under config/trust and config/central. */
export const DEMO_PUBLIC_KEYS: Readonly<Record<string, string>> = {
  // config/trust/demo-issuer-1.jwk.json; private half config/demo/issuer-1.private.jwk.json
  'qhbnb4MrKIu50rnuT_RFVkMsam_T3S-PSqi0gMgyvk4': 'the demo pass issuer (demo-issuer-1)',
  // config/central/demo-central-1.jwk.json; private half config/demo/central-1.private.jwk.json
  'nWfA3l6HGu5Q1udWsa5lm4CMx8dOxbeLSg7-zEMuT5o': 'the demo central office (demo-central-1)',
};

/** SHA-256 of the bytes of config/demo/pseudonym.secret. */
export const DEMO_SECRET_SHA256 = 'a06522a7e72bd80f2e14f7766e60525e8ce7b3bc9daccbbc69f216d52541a865';

/** Is this the demo pseudonym secret (its bytes, whatever the file's name)? */
export function isDemoSecret(secret: Buffer): boolean {
  return createHash('sha256').update(secret).digest('hex') === DEMO_SECRET_SHA256;
}

/** What a JWK is when it is one of the demo's keys (e.g. "the demo pass issuer (demo-issuer-1)"), else null. */
export function demoKeyOf(jwk: unknown): string | null {
  const x = typeof jwk === 'object' && jwk !== null ? (jwk as { x?: unknown }).x : undefined;
  return typeof x === 'string' ? (DEMO_PUBLIC_KEYS[x] ?? null) : null;
}

/** The key files of a trust folder that hold one of the demo's keys (unreadable files are reported elsewhere). */
export function demoKeysIn(folder: string): { file: string; what: string }[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const found: { file: string; what: string }[] = [];
  for (const name of names.filter((n) => n.endsWith(TRUST_FILE_SUFFIX)).sort()) {
    const file = path.join(folder, name);
    try {
      const what = demoKeyOf(JSON.parse(readFileSync(file, 'utf8')));
      if (what !== null) found.push({ file, what });
    } catch {
      // not JSON or not readable: the trust check says so
    }
  }
  return found;
}

/** The end of every demo-material problem: what to do instead, or how to say it is a demo. */
export function demoRemedy(configFile: string, fix: string): string {
  return `${fix} (\`checkpoint-gateway setup\` does it, docs/install.md), or, for a demo on a bench, add \`demo: true\` at the top of ${configFile}`;
}
