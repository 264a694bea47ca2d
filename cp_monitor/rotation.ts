/**
 * Which Central a monitor tries next, and how long it waits first: the addresses in turn,
 * the next one at once after a failure, and the backoff's pause only once every address has
 * failed in a row. A monitor given two Centrals thus reaches the standby that has just taken
 * over as soon as it listens, not one growing pause after the other.
 *
 * @module
 */
import { Backoff } from "../shared/process/backoff.ts";

/** A round-robin over addresses with a backoff between whole rounds. */
export class Rotation<T> {
  #index = 0;
  #failedInRow = 0;

  constructor(readonly addresses: readonly T[], readonly backoff: Backoff = new Backoff()) {
    if (addresses.length === 0) throw new Error("no address to try");
  }

  /** The address to try now. */
  get current(): T {
    return this.addresses[this.#index];
  }

  /** The attempt at {@link current} failed: moves on, and returns the pause before the next. */
  failed(): number {
    this.#index = (this.#index + 1) % this.addresses.length;
    this.#failedInRow++;
    if (this.#failedInRow < this.addresses.length) return 0;
    this.#failedInRow = 0;
    return this.backoff.next();
  }

  /** {@link current} accepted us: it stays the one to try first, from the shortest pause. */
  succeeded(): void {
    this.#failedInRow = 0;
    this.backoff.reset();
  }
}
