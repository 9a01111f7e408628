// The local CLI token: `central events` on an embedded PGlite folder asks the running
// service (only one process may open the folder). The service writes a random token to
// <dataDir>/cli-token (mode 0600) at start; whoever can read it can read the folder too,
// so it grants nothing new. It opens GET /api/events only.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const cliTokenFile = (dataDir: string): string => path.join(dataDir, 'cli-token');

export function writeCliToken(dataDir: string): string {
  const token = randomBytes(32).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  const file = cliTokenFile(dataDir);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** The token, or null when there is none (the service never ran on this folder). */
export function readCliToken(dataDir: string): string | null {
  try {
    return readFileSync(cliTokenFile(dataDir), 'utf8').trim() || null;
  } catch {
    return null;
  }
}
