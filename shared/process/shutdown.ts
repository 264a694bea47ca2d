/**
 * Clean shutdown on Ctrl+C (SIGINT) and SIGTERM: runs the registered closers once, newest
 * first, each bounded in time so that a hung socket cannot keep the process alive.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { errorText, logger } from "./log.ts";

const log = logger("shutdown");
const closers: { name: string; close: () => unknown }[] = [];

/** How long one closer may take: a hung socket must not keep the process alive. */
const CLOSE_LIMIT_MS = 3000;
let stopping: Promise<never> | undefined;

/** Registers something to close at shutdown (sockets, Kafka clients, the DB). */
export function onShutdown(name: string, close: () => unknown): void {
  closers.push({ name, close });
}

/** Runs every closer (newest first, 3 s each at most) and exits with `code`. */
export function shutdown(code = 0, reason = "shutting down"): Promise<never> {
  stopping ??= (async () => {
    log.info(reason);
    for (const { name, close } of closers.reverse()) {
      try {
        const limit = new AbortController();
        await Promise.race([
          Promise.resolve(close()).finally(() => limit.abort()),
          delay(CLOSE_LIMIT_MS, undefined, { signal: limit.signal }).then(() => {
            throw new Error("timed out");
          }),
        ]);
      } catch (e) {
        log.warn(`closing ${name}: ${errorText(e)}`);
      }
    }
    Deno.exit(code);
  })();
  return stopping;
}

/** Installs the SIGINT/SIGTERM handlers. */
export function handleSignals(): void {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const sig of signals) {
    Deno.addSignalListener(sig, () => void shutdown(0, `${sig} received, shutting down`));
  }
}
