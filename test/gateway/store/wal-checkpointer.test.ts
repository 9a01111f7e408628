import Database from 'better-sqlite3';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { BOUND_PAGES, openStore } from '../../../gateway/store/index.js';
import { TARGET_PAGES, WORKER_NICE, WalCheckpointer } from '../../../gateway/store/wal-checkpointer.js';
import { closeAndRemove, freshDir, track } from './helpers.js';

afterEach(closeAndRemove);

const until = async <T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** ~4 MB of committed pages (about 1000 WAL frames of 4 KB), in 40 commits. */
function writeBulk(store: ReturnType<typeof openStore>, tag: string): void {
  for (let i = 0; i < 40; i++) store.setMeta(`bulk.${tag}.${i}`, `${i}`.padEnd(100_000, 'x'));
}

describe('WAL checkpoints in a worker thread', () => {
  it('copies the WAL into the database file while the store writes, though the store connection would not checkpoint yet', async () => {
    const dir = freshDir();
    const store = track(openStore(dir, { checkpointWorker: { everyMs: 5 } }));
    const before = statSync(store.path).size;
    writeBulk(store, 'a');
    // Far below the store connection's own auto-checkpoint: only the worker moves pages into the file.
    expect(store.walCheckpoints()!.log).toBeLessThan(BOUND_PAGES);
    // A report can come from a checkpoint taken before the last commits, so the wait is
    // for the file to hold them all, not for the first caught-up report.
    const s = await until('the worker to copy every commit into the file', () => {
      const st = store.walCheckpoints()!;
      return st.log > 0 && st.checkpointed === st.log && statSync(store.path).size > before + 3_000_000 ? st : undefined;
    });
    expect(s.running).toBe(true);
    expect(store.getMeta('bulk.a.39')?.startsWith('39')).toBe(true);
  });

  it('stops the worker when the store closes, and the close still removes the WAL', async () => {
    const dir = freshDir();
    const store = openStore(dir, { checkpointWorker: { everyMs: 5 } });
    writeBulk(store, 'b');
    await until('a checkpoint', () => (store.walCheckpoints()!.checkpoints > 0 ? true : undefined));
    store.close();
    expect(store.walCheckpoints()!.running).toBe(false);
    await expect(store.checkpointWorkerExited).resolves.toBe(0);
    expect(existsSync(`${store.path}-wal`)).toBe(false);
    // Everything committed is in the file.
    const again = track(openStore(dir));
    expect(again.getMeta('bulk.b.0')?.length).toBe(100_000);
  });

  it('leaves nothing running after many stores opened and closed at once', async () => {
    const dir = freshDir();
    const exits: Promise<number>[] = [];
    for (let i = 0; i < 10; i++) {
      const store = openStore(dir, { checkpointWorker: true });
      store.setMeta('n', String(i));
      store.close();
      exits.push(store.checkpointWorkerExited!);
    }
    await expect(Promise.all(exits)).resolves.toEqual(new Array(10).fill(0));
    const store = track(openStore(dir));
    expect(store.getMeta('n')).toBe('9');
  });

  it('is off unless asked for', () => {
    const store = track(openStore(freshDir()));
    expect(store.walCheckpoints()).toBeNull();
    expect(store.checkpointWorkerExited).toBeNull();
  });

  it('reports a worker that cannot run, so the caller checkpoints again', async () => {
    const lost: string[] = [];
    const c = new WalCheckpointer(`${freshDir()}/missing/gateway.sqlite`, { onLost: (why) => lost.push(why) });
    await expect(c.exited).resolves.toBe(1);
    expect(c.running).toBe(false);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/WAL checkpoint worker exited \(code 1: .*(open|directory)/i);
    c.stop();
  });
});

describe('a bulk writer waiting for the checkpoint worker (caughtUp)', () => {
  /** Commits of ~100 kB until the worker has reported a WAL of TARGET_PAGES frames or more. */
  async function bigWal(store: ReturnType<typeof openStore>, tag: string): Promise<void> {
    for (let i = 0; store.walCheckpoints()!.log < TARGET_PAGES; i++) {
      store.setMeta(`big.${tag}.${i}`, `${i}`.padEnd(100_000, 'y'));
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  /** The WAL's frames as reported by a checkpoint that began after this call. */
  async function freshLog(store: ReturnType<typeof openStore>): Promise<number> {
    const k = store.walCheckpoints()!.checkpoints;
    return (await until('two more checkpoints', () => (store.walCheckpoints()!.checkpoints >= k + 2 ? store.walCheckpoints()! : undefined))).log;
  }
  /**
   * A store whose WAL has TARGET_PAGES frames or more, none copied back yet: a reader's
   * snapshot held them from the worker while they were written, and has just let go.
   */
  async function uncopiedWal(): Promise<ReturnType<typeof openStore>> {
    const store = track(openStore(freshDir(), { checkpointWorker: { everyMs: 5 } }));
    store.setMeta('before', '1');
    const reader = new Database(store.path, { readonly: true });
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT count(*) AS n FROM meta').get();
    await bigWal(store, 'pinned');
    reader.prepare('COMMIT').run();
    reader.close();
    return store;
  }

  it('lets the next write start the WAL over, where a write that does not wait grows it', async () => {
    const growing = await uncopiedWal();
    growing.setMeta('small', '1'); // at once: the worker cannot have copied ~4 MB meanwhile
    expect(await freshLog(growing)).toBeGreaterThanOrEqual(TARGET_PAGES);

    const waiting = await uncopiedWal();
    await expect(waiting.walCaughtUp(5000)).resolves.toBe(true);
    const s = waiting.walCheckpoints()!;
    expect(s.checkpointed).toBe(s.log);
    waiting.setMeta('small', '2');
    expect(await freshLog(waiting)).toBeLessThan(10);
    expect(waiting.getMeta('small')).toBe('2');
  });

  it('gives up after its time while a reader holds old pages, then asks again only once the WAL has grown by TARGET_PAGES', async () => {
    const store = track(openStore(freshDir(), { checkpointWorker: { everyMs: 5 } }));
    store.setMeta('before', '1');
    const reader = new Database(store.path, { readonly: true });
    try {
      reader.prepare('BEGIN').run();
      reader.prepare('SELECT count(*) AS n FROM meta').get(); // holds its snapshot: the worker cannot copy past it
      await bigWal(store, 'b');
      await expect(store.walCaughtUp(50)).resolves.toBe(false);
      // Asked again at once, on the same WAL: goes ahead without waiting (a wait could only end false: the reader still holds).
      await expect(store.walCaughtUp(50)).resolves.toBe(true);
      // Another TARGET_PAGES of WAL, the reader still holding it (so it cannot start over): it waits again.
      const from = store.walCheckpoints()!.log;
      for (let i = 0; store.walCheckpoints()!.log < from + TARGET_PAGES; i++) {
        store.setMeta(`more.${i}`, `${i}`.padEnd(100_000, 'w'));
        await new Promise((r) => setTimeout(r, 2));
      }
      await expect(store.walCaughtUp(50)).resolves.toBe(false); // true at once, had it not asked again
      reader.prepare('COMMIT').run();
      // Let go, the worker copies it all.
      await until('the WAL copied back', () => {
        const c = store.walCheckpoints()!;
        return c.checkpointed >= c.log && c.log > 0 ? c : undefined;
      });
    } finally {
      reader.close();
    }
  });

  it('goes ahead at once without a worker', async () => {
    const store = track(openStore(freshDir()));
    await expect(store.walCaughtUp(5000)).resolves.toBe(true);
  });
});

describe('the checkpoint worker thread', () => {
  /** Nice value of each thread of this process (Linux /proc; field 19 of stat). */
  const threadNice = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        m.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
      } catch {
        // a thread that ended meanwhile
      }
    }
    return m;
  };

  const self = (): string => readlinkSync('/proc/thread-self').split('/').pop()!;

  // Where the tests themselves run at WORKER_NICE or lower in priority, there is nothing to lower.
  it.runIf(process.platform === 'linux' && getPriority() < WORKER_NICE)('runs at nice WORKER_NICE, below the gateway thread, which keeps its own', async () => {
    const own = threadNice().get(self());
    const before = new Set([...threadNice()].filter(([, n]) => n === WORKER_NICE).map(([t]) => t));
    const store = track(openStore(freshDir(), { checkpointWorker: true }));
    await until('a first checkpoint', () => (store.walCheckpoints()!.checkpoints > 0 ? true : undefined));
    const niced = [...threadNice()].filter(([t, n]) => n === WORKER_NICE && !before.has(t));
    expect(niced).toHaveLength(1);
    expect(threadNice().get(self())).toBe(own);
  });
});

describe('reading ahead for a bulk writer (readAhead)', () => {
  /** A plan whose one statement fails unless its parameter is 7: abs() of the smallest integer overflows. */
  const PLANS = { seven: ['SELECT CASE WHEN ? = 7 THEN 1 ELSE abs(-9223372036854775808) END'], broken: ['SELECT nothing FROM no_such_table LIMIT ?'] };

  it('runs the named plan on the worker with the rows as its parameter, and counts a statement that fails', async () => {
    const w = new WalCheckpointer(track(openStore(freshDir())).path, { everyMs: 5, readAhead: PLANS });
    try {
      await expect(w.readAhead('seven', 7, 5000)).resolves.toBe(true);
      expect(w.stats()).toMatchObject({ readAheads: 1, readAheadFailures: 0 });
      await expect(w.readAhead('seven', 8, 5000)).resolves.toBe(true);
      await expect(w.readAhead('broken', 10, 5000)).resolves.toBe(true);
      expect(w.stats()).toMatchObject({ readAheads: 3, readAheadFailures: 2 });
      await expect(w.readAhead('unknown', 10, 5000)).resolves.toBe(false);
    } finally {
      w.stop();
    }
    await expect(w.readAhead('seven', 7, 5000)).resolves.toBe(false);
  });

  it('does not checkpoint for it: a request wakes the worker, but checkpoints keep their pace, and caughtUp still gets one at once', async () => {
    const store = track(openStore(freshDir()));
    // A WAL of TARGET_PAGES frames or more, from a connection that never checkpoints.
    const raw = track(new Database(store.path));
    raw.pragma('wal_autocheckpoint = 0');
    raw.pragma('synchronous = OFF');
    const put = raw.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    for (let i = 0; i < 1500; i++) put.run(`pad.${i}`, 'x'.repeat(3000));
    const w = new WalCheckpointer(store.path, { everyMs: 60_000, readAhead: PLANS });
    try {
      await until('the first checkpoint', () => (w.stats().checkpoints > 0 ? true : undefined));
      const { checkpoints, log } = w.stats();
      expect(log).toBeGreaterThanOrEqual(TARGET_PAGES);
      for (let i = 0; i < 5; i++) {
        store.setMeta(`k${i}`, 'v');
        await expect(w.readAhead('seven', 7, 5000)).resolves.toBe(true);
      }
      expect(w.stats()).toMatchObject({ readAheads: 5, checkpoints });
      await expect(w.caughtUp(5000)).resolves.toBe(true);
      expect(w.stats().checkpoints).toBeGreaterThan(checkpoints);
    } finally {
      w.stop();
    }
  });

  it('resolves false without a worker', async () => {
    const store = track(openStore(freshDir()));
    await expect(store.readAhead('delete', 10, 1000)).resolves.toBe(false);
  });
});
