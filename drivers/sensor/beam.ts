// Edge and debounce rules of a passage beam, apart from any bus: a pure state machine fed
// with timed samples (broken / clear), so the rules can be tested without timers.
//
// A run is the samples from the first broken one to the last broken one before a clear
// sample. Its length is last − first broken sample: what was *seen* broken, so a single
// noisy sample never counts unless minActiveMs is 0.
import { DriverError } from '../transport/framing.js';

export interface BeamRules {
  /** A run must be seen broken at least this long to count as a person (debounce). */
  minActiveMs: number;
  /**
   * A run broken longer than this is a blocked or misaligned beam, not a person: it is
   * reported while it lasts and never counted, because an exit counted wrongly would
   * let the zone admit more people than its limit.
   */
  stuckAfterMs: number;
}

export type BeamEvent =
  /** A person went through: the beam cleared at `at` after `brokenMs` broken. */
  | { kind: 'passage'; at: number; brokenMs: number }
  /** A run shorter than minActiveMs cleared: ignored. */
  | { kind: 'bounce'; at: number; brokenMs: number }
  /** The current run has been broken longer than stuckAfterMs. */
  | { kind: 'stuck'; since: number }
  /** A stuck run cleared: not counted. */
  | { kind: 'unstuck'; at: number; brokenMs: number };

export class BeamEdgeDetector {
  readonly rules: BeamRules;
  #firstBroken: number | null = null;
  #lastBroken = 0;
  #stuck = false;

  constructor(rules: BeamRules) {
    if (!(rules.minActiveMs >= 0) || !Number.isFinite(rules.minActiveMs)) {
      throw new DriverError('INVALID_ARGUMENT', `minActiveMs must be a finite number >= 0, got ${rules.minActiveMs}`, 'passage-sensor');
    }
    if (!(rules.stuckAfterMs > rules.minActiveMs)) {
      throw new DriverError('INVALID_ARGUMENT', `stuckAfterMs must exceed minActiveMs (${rules.minActiveMs}), got ${rules.stuckAfterMs}`, 'passage-sensor');
    }
    this.rules = { ...rules };
  }

  /** Is a run in progress (the last sample was broken)? */
  get broken(): boolean {
    return this.#firstBroken !== null;
  }

  get stuck(): boolean {
    return this.#stuck;
  }

  /** One sample of the beam taken at `at` (epoch ms, non-decreasing). */
  sample(broken: boolean, at: number): BeamEvent | null {
    if (broken) {
      // Broken at the first sample after start-up or a reset starts a run here: whoever
      // stands in the beam counts only once it clears, like anyone else.
      this.#firstBroken ??= at;
      this.#lastBroken = at;
      if (!this.#stuck && at - this.#firstBroken > this.rules.stuckAfterMs) {
        this.#stuck = true;
        return { kind: 'stuck', since: this.#firstBroken };
      }
      return null;
    }
    if (this.#firstBroken === null) return null;
    const brokenMs = this.#lastBroken - this.#firstBroken;
    const wasStuck = this.#stuck;
    this.reset();
    if (wasStuck) return { kind: 'unstuck', at, brokenMs };
    return brokenMs >= this.rules.minActiveMs ? { kind: 'passage', at, brokenMs } : { kind: 'bounce', at, brokenMs };
  }

  /**
   * Forget the current run (link lost, device silent): its end was not seen, so it is
   * not counted. A beam still broken afterwards starts a new run, as at start-up.
   */
  reset(): void {
    this.#firstBroken = null;
    this.#lastBroken = 0;
    this.#stuck = false;
  }
}
