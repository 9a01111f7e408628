// The policy profile and the pass-issuer trust list can be replaced by a signed update
// while the lanes run. Lanes hold one object for each, given at construction; these
// give them an object whose contents follow the latest applied update, so the next
// decision uses it without rebuilding a lane.
import type { DccTrustInput } from '../credentials/dcc/types.js';
import type { TrustList, TrustedKey } from '../credentials/trust-list.js';
import { underHealthChecks } from '../policy/profiles.js';
import type { HealthChecks, PolicyProfile } from '../policy/types.js';

/**
 * The gateway's `policy.healthChecks`: as configured, or as the last applied policy
 * update set it. Every LivePolicy built on it follows a change at once.
 */
export class LiveHealthChecks {
  #mode: HealthChecks;
  readonly #listeners: (() => void)[] = [];

  constructor(initial: HealthChecks) {
    this.#mode = initial;
  }

  get current(): HealthChecks {
    return this.#mode;
  }

  /** Synchronous: listeners run in the order they subscribed, before this returns. */
  set(mode: HealthChecks): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    for (const l of this.#listeners) l();
  }

  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }
}

export class LivePolicy {
  #base: PolicyProfile;
  #current: PolicyProfile;
  readonly #health: LiveHealthChecks | undefined;
  /** Hand this to the lanes: every read goes to the current profile. */
  readonly view: PolicyProfile;

  /** With `health`, the profile in force has health checks off whenever the gateway's setting is off. */
  constructor(initial: PolicyProfile, health?: LiveHealthChecks) {
    this.#base = initial;
    this.#health = health;
    this.#current = this.#effective();
    health?.onChange(() => {
      this.#current = this.#effective();
    });
    // A Proxy rather than copied getters: a field added to PolicyProfile later is
    // followed too, optional ones included.
    this.view = new Proxy({} as PolicyProfile, {
      get: (_t, key) => Reflect.get(this.#current, key),
      has: (_t, key) => Reflect.has(this.#current, key),
      ownKeys: () => Reflect.ownKeys(this.#current),
      getOwnPropertyDescriptor: (_t, key) => {
        const d = Reflect.getOwnPropertyDescriptor(this.#current, key);
        return d ? { ...d, configurable: true } : undefined;
      },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
    });
  }

  /** The profile in force (under the gateway's health checks setting). */
  get current(): PolicyProfile {
    return this.#current;
  }

  /** Synchronous swap: a decision sees the old or the new profile, never a mix. */
  set(profile: PolicyProfile): void {
    this.#base = profile;
    this.#current = this.#effective();
  }

  #effective(): PolicyProfile {
    return underHealthChecks(this.#base, this.#health?.current ?? 'on');
  }
}

export class LiveTrust {
  readonly #map = new Map<string, TrustedKey>();

  constructor(initial: TrustList) {
    this.replace(initial);
  }

  /** Hand this to the decoders: it is the same map after every replace. */
  get view(): TrustList {
    return this.#map;
  }

  /** Synchronous (one turn of the event loop): no decode sees a half-replaced list. */
  replace(list: TrustList): void {
    this.#map.clear();
    for (const [kid, key] of list) this.#map.set(kid, key);
  }
}

/**
 * The EU DCC document signers in force: the trust folder's at start, then each applied
 * `dcc-trust` update's. Holds the entries and the verifier's trust built from them
 * (`build`, e.g. buildDccTrust); decoders read `current` at each scan.
 */
export class LiveDccTrust<T> {
  #entries: readonly DccTrustInput[];
  #current: T;
  readonly #build: (entries: readonly DccTrustInput[]) => T;

  /** Throws what `build` throws for a bad entry (a start-up error). */
  constructor(initial: readonly DccTrustInput[], build: (entries: readonly DccTrustInput[]) => T) {
    this.#build = build;
    this.#entries = initial;
    this.#current = build(initial);
  }

  get current(): T {
    return this.#current;
  }

  get entries(): readonly DccTrustInput[] {
    return this.#entries;
  }

  /** Checks by building first: a list the verifier refuses throws and leaves the one in force. */
  prepare(entries: readonly DccTrustInput[]): T {
    return this.#build(entries);
  }

  /** Synchronous swap: a scan sees the old list or the new one, never a mix. */
  replace(entries: readonly DccTrustInput[], built: T = this.#build(entries)): void {
    this.#entries = entries;
    this.#current = built;
  }
}
