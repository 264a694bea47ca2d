/**
 * The one retry policy helper: try, wait, try again, until it works, the caller stops it, or
 * its time is up. Every "until Kafka is back" and "until Central answers" loop of the programs
 * is this, with its own delays.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";

/** How {@link retry} waits and when it gives up. */
export interface RetryOptions {
  /** The pause before the next attempt: fixed milliseconds, or a function (e.g. a backoff). */
  delayMs: number | (() => number);
  /** Stops retrying: the pending wait ends at once and `retry` rejects with the reason. */
  signal?: AbortSignal;
  /** Gives up this long after the first attempt, rejecting with the last error. */
  timeoutMs?: number;
  /** Told of each failed attempt (1, 2, …) before the pause, e.g. to log the first one. */
  onError?: (error: unknown, attempt: number) => void;
}

/** Runs `attempt` until it resolves, and resolves with its value. */
export async function retry<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal, timeoutMs, onError } = options;
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  for (let n = 1;; n++) {
    signal?.throwIfAborted();
    try {
      return await attempt();
    } catch (e) {
      signal?.throwIfAborted();
      if (Date.now() >= deadline) throw e;
      onError?.(e, n);
    }
    const pause = typeof options.delayMs === "number" ? options.delayMs : options.delayMs();
    await delay(Math.min(pause, Math.max(0, deadline - Date.now())), undefined, { signal });
  }
}
