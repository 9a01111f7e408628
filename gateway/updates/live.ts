// The policy profile and the pass-issuer trust list can be replaced by a signed update
// while the lanes run. Lanes hold one object for each, given at construction; these
// give them an object whose contents follow the latest applied update, so the next
// decision uses it without rebuilding a lane.
import type { TrustList, TrustedKey } from '../credentials/trust-list.js';
import type { PolicyProfile } from '../policy/types.js';

export class LivePolicy {
  #current: PolicyProfile;
  /** Hand this to the lanes: every read goes to the current profile. */
  readonly view: PolicyProfile;

  constructor(initial: PolicyProfile) {
    this.#current = initial;
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

  get current(): PolicyProfile {
    return this.#current;
  }

  /** Synchronous swap: a decision sees the old or the new profile, never a mix. */
  set(profile: PolicyProfile): void {
    this.#current = profile;
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
