/**
 * What the live views show besides the CPs: the last events and the request counters since
 * start. Fed with every event Central records; holds a bounded amount whatever the rate.
 *
 * @module
 */
import type { NetworkEvent } from "./rules.ts";

/** How many events the live views keep. */
export const RECENT_EVENTS = 30;

/** Request counters since start. */
export interface RequestCounts {
  requests: number;
  authorized: number;
  denied: number;
}

/** The recent events and request counters. */
export class Activity {
  readonly #recent: NetworkEvent[] = [];
  readonly #counts: RequestCounts = { requests: 0, authorized: 0, denied: 0 };

  /** Adds an event, forgetting the oldest beyond {@link RECENT_EVENTS}. */
  record(ev: NetworkEvent): void {
    this.#recent.push(ev);
    if (this.#recent.length > RECENT_EVENTS) this.#recent.shift();
    if (ev.kind === "authorized") this.#counts.authorized++;
    if (ev.kind === "denied") this.#counts.denied++;
    if (ev.kind === "authorized" || ev.kind === "denied") this.#counts.requests++;
  }

  /** The last events, oldest first. */
  recent(): NetworkEvent[] {
    return [...this.#recent];
  }

  /** The request counters. */
  counts(): RequestCounts {
    return { ...this.#counts };
  }
}
