/**
 * Reconnection delays: doubling from a start to a cap, reset after a success, with a little
 * jitter so that many CPs cut off together do not all come back in the same instant.
 *
 * @module
 */

/** Doubling delays with jitter. */
export class Backoff {
  #next: number;

  constructor(readonly startMs = 500, readonly maxMs = 5000, readonly random = Math.random) {
    this.#next = startMs;
  }

  /** The delay before the next attempt. */
  next(): number {
    const delay = this.#next;
    this.#next = Math.min(this.maxMs, this.#next * 2);
    return Math.round(delay * (0.8 + 0.4 * this.random()));
  }

  /** After a success: start again from the shortest delay. */
  reset(): void {
    this.#next = this.startMs;
  }
}
