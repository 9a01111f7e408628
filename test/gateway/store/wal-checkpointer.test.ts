import { existsSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BOUND_PAGES, openStore } from '../../../gateway/store/index.js';
import { WalCheckpointer } from '../../../gateway/store/wal-checkpointer.js';
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
