/**
 * Waiting on a condition with a deadline, for tests and scripts that watch other processes
 * or sockets: never a fixed sleep, always "until this is true, at most this long".
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";

/**
 * Polls `check` every `pollMs` until it returns a value (not undefined or false) and returns
 * that value; throws, naming `what`, when `timeoutMs` passes first.
 */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  pollMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await delay(pollMs);
  }
}
