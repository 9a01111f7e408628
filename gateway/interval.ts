// A background job that runs every so often (counters, daily summaries, scheduled
// resets) and never keeps the process alive: the gateway stops when its parts stop.

export class Interval {
  readonly #everyMs: number;
  readonly #run: () => void;
  #timer: NodeJS.Timeout | null = null;

  /** `everyMs` 0 = never on its own (tests call the job directly). */
  constructor(everyMs: number, run: () => void) {
    this.#everyMs = everyMs;
    this.#run = run;
  }

  start(): void {
    if (this.#everyMs > 0 && !this.#timer) {
      this.#timer = setInterval(this.#run, this.#everyMs);
      this.#timer.unref();
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
