/**
 * A mailbox of validated messages that a sequential flow can wait on with a deadline:
 * `next(match, ms)` resolves with the first message that matches, or undefined on timeout.
 * Messages that arrive while nobody waits are kept (up to a bound) for the next `next`,
 * since one Kafka batch may bring a telemetry reading and the ticket together.
 *
 * @module
 */

/** Waits for messages by predicate. */
export class Inbox<T> {
  #waiters: { match: (m: T) => boolean; resolve: (m: T | undefined) => void }[] = [];
  #kept: T[] = [];

  constructor(readonly keep = 1000) {}

  /** Offers a message to whoever waits for it, or keeps it. */
  push(message: T): void {
    const i = this.#waiters.findIndex((w) => w.match(message));
    if (i < 0) {
      this.#kept.push(message);
      if (this.#kept.length > this.keep) this.#kept.shift();
      return;
    }
    const [w] = this.#waiters.splice(i, 1);
    w.resolve(message);
  }

  /** The next matching message, or undefined after `timeoutMs` (or when `signal` aborts). */
  next(match: (m: T) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<T | undefined> {
    const k = this.#kept.findIndex(match);
    if (k >= 0) return Promise.resolve(this.#kept.splice(k, 1)[0]);
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const finish = (m: T | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", giveUp);
        resolve(m);
      };
      const waiter = { match, resolve: finish };
      const giveUp = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        finish(undefined);
      };
      const timer = setTimeout(giveUp, timeoutMs);
      signal?.addEventListener("abort", giveUp);
      this.#waiters.push(waiter);
    });
  }
}
