// What the office console's browser tests share: the officers' test password, the two
// screen sizes of the screenshots, and adding an officer through the built CLI.
import { spawn } from 'node:child_process';
import { ROOT } from '../integration/helpers.js';

export const OFFICER_PASSWORD = '防疫-office-2026';

export const SCREEN_SIZES = [
  { width: 1920, height: 1080 },
  { width: 1366, height: 768 },
] as const;

/** `central officers add` with the password on stdin; resolves with the exit code. */
export function addOfficer(config: string, id: string, name: string, role: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/gateway/cli/main.js', 'central', 'officers', 'add', id, '--name', name, '--role', role, '--config', config], {
      cwd: ROOT,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', resolve);
    child.stdin.end(`${OFFICER_PASSWORD}\n`);
  });
}
