// `privacy purge-health`: erases every stored health field — the health group (temperature
// and evaluated facts, with their salt) of every ledger row, and the roster's health facts —
// after a confirmation (type the site id, or --yes), and records the purge as a chain row
// of kind `erasure`. The ledger's commitments stay, so `ledger verify` still passes. Safe
// while the gateway runs (as `roster import`): it writes in batches of short transactions,
// so passages wait for one batch at most.
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { configPathFromEnv, loadConfig } from '../config/load.js';
import { CodedError } from '../errors.js';
import { openStore, type HealthPurge } from '../store/index.js';

export class PurgeHealthError extends CodedError<'PRIVACY_PURGE_REFUSED'> {
  constructor(message: string) {
    super('PRIVACY_PURGE_REFUSED', `[PRIVACY_PURGE_REFUSED] ${message}`);
  }
}

const BATCH = 500;

/** Erases every health field of the store in dataDir; returns the counts and the chain head after the erasure row. */
export async function purgeHealth(dataDir: string, now: () => number = Date.now): Promise<HealthPurge> {
  const store = openStore(dataDir);
  try {
    const room = store.retention;
    if (room === null) throw new PurgeHealthError(`${store.path} has store schema ${store.schemaVersion}; start the gateway once to upgrade it`);
    const upTo = store.lastSeq();
    let ledgerRows = 0;
    for (let after = 0, done = upTo === 0; !done; ) {
      const r = room.eraseHealthBatch(after, upTo, BATCH);
      ledgerRows += r.n;
      after = r.next;
      done = r.done;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return room.finishHealthPurge(ledgerRows, now());
  } finally {
    store.close();
  }
}

async function confirm(site: string): Promise<void> {
  if (!process.stdin.isTTY) {
    // Piped: the first line must be the site id.
    const rl = createInterface({ input: process.stdin });
    const first = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    rl.close();
    if (first.trim() !== site) throw new PurgeHealthError(`not confirmed: expected the site id ${JSON.stringify(site)} on the first line of standard input (or --yes); nothing erased`);
    return;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`This erases every health field (temperatures, health claims) in the ledger and the roster of site ${site}, for good.\nType the site id to confirm: `);
  rl.close();
  if (answer.trim() !== site) throw new PurgeHealthError(`not confirmed (typed ${JSON.stringify(answer.trim().slice(0, 40))}, expected ${JSON.stringify(site)}); nothing erased`);
}

export function registerPrivacyCommands(program: Command): void {
  program
    .command('privacy')
    .description('personal data kept by this gateway (retention: docs/store.md)')
    .command('purge-health')
    .description('erase every stored health field (ledger temperatures and health claims, roster health facts) after a confirmation; recorded in the hash chain')
    .option('--config <file>', 'gateway config naming the data dir (default GATEWAY_CONFIG or config/gateway.yaml)')
    .option('--yes', 'do not ask; for scripts')
    .action(async (o: { config?: string; yes?: boolean }) => {
      const loaded = loadConfig(o.config ?? configPathFromEnv());
      if (!o.yes) await confirm(loaded.config.site);
      const r = await purgeHealth(loaded.paths.dataDir);
      process.stderr.write(
        `health fields erased: ${r.ledgerRows} ledger row${r.ledgerRows === 1 ? '' : 's'}, ${r.rosterRows} roster entr${r.rosterRows === 1 ? 'y' : 'ies'}; ` +
          `recorded in the hash chain at seq ${r.head.seq}\n` +
          (loaded.config.policy.healthChecks === 'on'
            ? 'note: policy.healthChecks is on — staff badges now carry no health code and are refused until the roster is imported again (or health checks are turned off)\n'
            : ''),
      );
    });
}
