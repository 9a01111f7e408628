// `guards add|remove|list`: the guard accounts behind the console's sign-in. The PIN is
// read from standard input (typed without echo on a terminal, or piped), never from the
// command line, where it would show in the process list and the shell history.
import type { Command } from 'commander';
import { chinaTime } from '../display-time.js';
import { configPathFromEnv, loadConfig } from '../config/load.js';
import { GuardAccounts, checkPin } from '../guards/accounts.js';
import { GuardError } from '../guards/errors.js';
import { openStore } from '../store/index.js';

function withAccounts<T>(configFile: string | undefined, fn: (accounts: GuardAccounts) => Promise<T> | T): Promise<T> {
  const loaded = loadConfig(configFile ?? configPathFromEnv());
  // openStore migrates the file, so the guards table exists before the accounts open it.
  const store = openStore(loaded.paths.dataDir);
  let accounts: GuardAccounts | undefined;
  const close = (): void => {
    accounts?.close();
    store.close();
  };
  try {
    accounts = new GuardAccounts(store.path, { maxFailures: loaded.config.guard.lockoutFailures, lockoutMs: loaded.config.guard.lockoutMs });
    return Promise.resolve(fn(accounts)).finally(close);
  } catch (err) {
    close();
    throw err;
  }
}

/** One line from a terminal without echo. */
export function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    // Echo goes off before the prompt shows: a PIN typed the instant the prompt appears
    // must not reach the terminal's echo.
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    stdin.resume();
    let text = '';
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(text);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new GuardError('GUARD_INVALID_PIN', 'cancelled'));
          return;
        }
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

async function readPin(): Promise<string> {
  if (process.stdin.isTTY) {
    const pin = await readHidden('PIN (6-12 digits): ');
    checkPin(pin); // a PIN that cannot be right is refused before it is asked for again
    const again = await readHidden('PIN again: ');
    if (pin !== again) throw new GuardError('GUARD_INVALID_PIN', 'the two PINs differ; nothing changed');
    return pin;
  }
  let text = '';
  for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
  return (text.split(/\r?\n/)[0] ?? '').trim();
}

export function registerGuardCommands(program: Command): void {
  const guards = program.command('guards').description('guard accounts of the console at /guard (id + PIN)');
  guards
    .command('add <id>')
    .description('add a guard; the PIN (6-12 digits) is read from standard input')
    .requiredOption('--name <name>', "the guard's name as shown on the console")
    .option('--config <file>', 'gateway config naming the data dir')
    .action((id: string, o: { name: string; config?: string }) =>
      withAccounts(o.config, async (accounts) => {
        if (accounts.list().some((g) => g.id === id)) throw new GuardError('GUARD_EXISTS', `guard ${id} exists already; remove it first to change the PIN`);
        const pin = await readPin();
        const g = await accounts.add(id, o.name, pin);
        process.stderr.write(`guard ${g.id} (${g.name}) added\n`);
      }),
    );
  guards
    .command('remove <id>')
    .description('remove a guard; their open console sessions end at their next request')
    .option('--config <file>', 'gateway config naming the data dir')
    .action((id: string, o: { config?: string }) =>
      withAccounts(o.config, (accounts) => {
        accounts.remove(id);
        process.stderr.write(`guard ${id} removed\n`);
      }),
    );
  guards
    .command('list')
    .description('list the guards (id, name, added, locked until)')
    .option('--config <file>', 'gateway config naming the data dir')
    .option('--json', 'one JSON object per line')
    .action((o: { config?: string; json?: boolean }) =>
      withAccounts(o.config, (accounts) => {
        const now = Date.now();
        for (const g of accounts.list()) {
          const locked = g.lockedUntil !== null && g.lockedUntil > now ? g.lockedUntil : null;
          if (o.json) process.stdout.write(`${JSON.stringify({ id: g.id, name: g.name, createdAt: new Date(g.createdAt).toISOString(), lockedUntil: locked === null ? null : new Date(locked).toISOString() })}\n`);
          else process.stdout.write(`${g.id.padEnd(16)}  ${g.name}  added ${chinaTime(g.createdAt)}${locked !== null ? `  LOCKED until ${chinaTime(locked)}` : ''}\n`);
        }
      }),
    );
}
