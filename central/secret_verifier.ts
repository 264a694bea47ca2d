/**
 * Checks CP secrets off Central's event loop: PBKDF2's 100,000 rounds take 15-50 ms of CPU
 * each, and a flood of registrations hashed on the loop stalled it for seconds. Checks run in
 * one worker thread, at most `maxQueued` waiting: beyond, a check is refused at once (the
 * caller says "busy"), so no flood queues up work without bound.
 *
 * @module
 */
import type { VerifyJob } from "./secret_worker.ts";

/** Checks that may wait for the worker at once. */
export const MAX_QUEUED_CHECKS = 32;

/** The verifier: see the module. */
export class SecretVerifier {
  #worker?: Worker;
  #nextId = 0;
  readonly #waiting = new Map<number, (ok: boolean) => void>();

  constructor(readonly maxQueued = MAX_QUEUED_CHECKS) {}

  /** Checks waiting or under way. */
  get queued(): number {
    return this.#waiting.size;
  }

  /**
   * Whether `secret` matches the stored hash; undefined, at once, when `maxQueued` checks
   * are waiting already.
   */
  verify(secret: string, stored: string): Promise<boolean> | undefined {
    if (this.#waiting.size >= this.maxQueued) return undefined;
    const worker = this.#worker ??= this.#start();
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      worker.postMessage({ id, secret, stored } satisfies VerifyJob);
    });
  }

  #start(): Worker {
    const worker = new Worker(new URL("./secret_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.onmessage = (e: MessageEvent<{ id: number; ok: boolean }>) => {
      const resolve = this.#waiting.get(e.data.id);
      this.#waiting.delete(e.data.id);
      resolve?.(e.data.ok);
    };
    worker.onerror = (e) => {
      // A check the worker could not run matches nothing; the next check starts a new one.
      e.preventDefault();
      this.#fail();
    };
    return worker;
  }

  #fail(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const resolve of this.#waiting.values()) resolve(false);
    this.#waiting.clear();
  }

  /** Stops the worker; checks still waiting match nothing. */
  close(): void {
    this.#fail();
  }
}
