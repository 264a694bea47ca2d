/**
 * Whether the driver can reach Kafka now, from what its clients see: the consumer fetches
 * many times a second while the broker is there (even an empty fetch is a sign of it), and
 * a send that fails says at once that it is not.
 *
 * @module
 */

/** No fetch for this long: the broker is unreachable (Central uses the same 3 s). */
export const UNREACHABLE_AFTER_MS = 3000;

/** Reachability of the broker, fed by the Kafka clients' signs of life and failures. */
export class BrokerWatch {
  readonly #now: () => number;
  #lastFetch: number;
  #sendFailed = false;

  /** Starts reachable: it is built once the consumer has fetched. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#lastFetch = now();
  }

  /** The consumer fetched: the broker answers. */
  fetched(): void {
    this.#lastFetch = this.#now();
    this.#sendFailed = false;
  }

  /** A send failed (kafkajs had retried it already). */
  sendFailed(): void {
    this.#sendFailed = true;
  }

  /** Whether the broker is reachable now. */
  reachable(): boolean {
    return !this.#sendFailed && this.#now() - this.#lastFetch < UNREACHABLE_AFTER_MS;
  }
}
