// Keeps every checkpoint's visitor approvals and contractor crews equal to what the office
// holds. Both update kinds REPLACE the whole set at a gateway, so a change to one entry
// is pushed as the full current set of each checkpoint it concerns: the unexpired,
// unrevoked entries naming that checkpoint plus the site-wide ones, signed, retained on
// <prefix>/<site>/<checkpoint>/cmd/<kind> (target = that checkpoint id).
//
// Never mixed with target `all` for these kinds: a gateway takes both its own and the
// `all` topic, and whichever version is newer would replace its own set — an `all` push
// of approvals would wipe every checkpoint-limited approval, and a per-checkpoint push
// after it would drop the `all` one. So the office pushes these kinds per checkpoint only.
//
// The sync compares, per checkpoint, the set it should have with the ids the newest push
// there carried (visitor_pushes) and pushes only where they differ. Targets: the site's
// known checkpoints (the `checkpoints` table), those named by a live entry, and those
// that ever got a set (so a revocation empties them). It runs after each change and on
// every status notice, which is how a gateway first seen after a push gets its set: its
// birth adds a row to `checkpoints`, and the next sync pushes it the site-wide entries.
// Expired entries drop out of the sets at the next sync too (a gateway refuses them by
// their window anyway).
import type { Queryable } from './db/adapter.js';
import { knownCheckpoints, lastPushed, liveEntries, recordVisitorPush, sitesWithEntries, VISITOR_KINDS, type VisitorKind } from './console/visitors.js';
import type { UpdatePusher } from './push.js';

export interface SyncDeps {
  db: () => Queryable;
  pusher: UpdatePusher | undefined;
  now: () => number;
  /** After a push was recorded (the console's live refresh). */
  onPushed?: () => void;
}

export interface SyncPushed {
  site: string;
  checkpoint: string;
  kind: VisitorKind;
  version: number;
  transaction: string;
  entries: number;
}

export interface SyncFailed {
  site: string;
  checkpoint: string;
  kind: VisitorKind;
  message: string;
}

export interface SyncOutcome {
  pushed: SyncPushed[];
  failed: SyncFailed[];
}

/** Who the sync pushes as when no officer asked for it (a status notice). */
export const SYNC_OFFICER = 'office:sync';

const sameIds = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export class VisitorSync {
  readonly #d: SyncDeps;
  #chain: Promise<unknown> = Promise.resolve();
  #lastFailure: { at: string; message: string } | null = null;

  constructor(deps: SyncDeps) {
    this.#d = deps;
  }

  /** Why the last sync could not push everything (the broker down, …); null after one that could. */
  get lastFailure(): { at: string; message: string } | null {
    return this.#lastFailure;
  }

  /** For a notice: a sync whose failure (the database gone) is kept in lastFailure, never thrown. */
  background(by: string): void {
    this.sync('all', by).catch((err: unknown) => {
      this.#lastFailure = { at: new Date(this.#d.now()).toISOString(), message: (err as Error).message };
    });
  }

  /**
   * Pushes what differs for `sites` ('all': every site with entries). Serialised in this
   * process, so pushes to one checkpoint leave in version order. Never throws for a
   * failed push: it is listed in `failed` and tried again by the next sync.
   */
  sync(sites: readonly string[] | 'all', by: string): Promise<SyncOutcome> {
    const run = this.#chain.then(() => this.#run(sites, by));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #run(sites: readonly string[] | 'all', by: string): Promise<SyncOutcome> {
    const db = this.#d.db();
    const out: SyncOutcome = { pushed: [], failed: [] };
    for (const site of sites === 'all' ? await sitesWithEntries(db) : sites) {
      const known = (await knownCheckpoints(db, site)).map((k) => k.checkpoint);
      for (const kind of VISITOR_KINDS) await this.#syncKind(db, site, kind, known, by, out);
    }
    this.#lastFailure = out.failed.length > 0 ? { at: new Date(this.#d.now()).toISOString(), message: out.failed[0]!.message } : null;
    if (out.pushed.length > 0) this.#d.onPushed?.();
    return out;
  }

  async #syncKind(db: Queryable, site: string, kind: VisitorKind, known: readonly string[], by: string, out: SyncOutcome): Promise<void> {
    const live = await liveEntries(db, kind, site, this.#d.now());
    const last = await lastPushed(db, kind, site);
    const targets = new Set([...known, ...live.flatMap((e) => e.checkpoints ?? []), ...last.keys()]);
    for (const checkpoint of [...targets].sort()) {
      const set = live.filter((e) => e.checkpoints === null || e.checkpoints.includes(checkpoint));
      const ids = set.map((e) => e.id);
      const before = last.get(checkpoint);
      if (before === undefined ? ids.length === 0 : sameIds(before, ids)) continue;
      const pusher = this.#d.pusher;
      if (pusher === undefined || !pusher.canPush) {
        out.failed.push({ site, checkpoint, kind, message: 'no updates.signingKeyFile is configured: the office cannot sign updates' });
        continue;
      }
      try {
        const p = await pusher.push({ site, target: checkpoint, kind, data: { entries: set.map((e) => e.entry) }, officerId: by });
        await recordVisitorPush(db, { site, checkpoint, kind, version: p.version, transaction: p.transaction, entryIds: ids, pushedBy: by, at: Date.parse(p.publishedAt) });
        out.pushed.push({ site, checkpoint, kind, version: p.version, transaction: p.transaction, entries: ids.length });
      } catch (err) {
        out.failed.push({ site, checkpoint, kind, message: (err as Error).message });
      }
    }
  }
}
