/**
 * The cheap checks in front of a registration, for a network with strangers on it: how many
 * links that have not registered yet a source address may hold (and all of them together),
 * whether a source that keeps failing may try again before its window ends, and which refusals
 * become rows in `events`. Pure bookkeeping: the monitor server asks, the handlers tell.
 *
 * Invariants: a source holds at most `pendingPerSource` unregistered links, and all sources at
 * most `pendingTotal`; after `failuresPerSource` refusals in a window a source's registrations
 * are refused without hashing any secret until the window ends; per source and window at most
 * two refusals are recorded (the first, and one count of the rest when the window ends), and
 * at most `sources` sources are followed at once (the others share one entry).
 *
 * @module
 */

/** The guard's limits. */
export interface GuardLimits {
  /** Unregistered links one source address may hold at once. */
  pendingPerSource: number;
  /** Unregistered links all sources together may hold at once. */
  pendingTotal: number;
  /** Refusals of one source in a window after which it is refused without checking. */
  failuresPerSource: number;
  /** The window of failures and of recorded refusals. */
  windowMs: number;
  /** Sources followed at once; refusals of others are counted together. */
  sources: number;
}

/**
 * Defaults: a CP host with many monitors (one address) still reconnects 64 at a time, and a
 * monitor with a wrong secret gets five tries a minute.
 */
export const GUARD_LIMITS: GuardLimits = {
  pendingPerSource: 64,
  pendingTotal: 512,
  failuresPerSource: 5,
  windowMs: 60_000,
  sources: 1024,
};

/** What to record about refusals: the detail of an event row. */
export interface RefusalRecord {
  detail: string;
  cpId?: string;
}

interface SourceWindow {
  start: number;
  failures: number;
  /** Refusals after the first, not recorded yet. */
  unrecorded: number;
  lastReason: string;
  lastCp?: string;
}

/** The shared entry of sources beyond the ones followed. */
const OTHERS = "other sources";

/** The source address of a peer written `host:port` or `[v6]:port`. */
export function sourceOf(peer: string): string {
  const colon = peer.lastIndexOf(":");
  const host = colon > 0 ? peer.slice(0, colon) : peer;
  return host.replace(/^\[(.*)\]$/, "$1");
}

/** The guard: see the module. */
export class RegistrationGuard {
  readonly #pending = new Map<string, number>();
  #pendingTotal = 0;
  readonly #windows = new Map<string, SourceWindow>();

  constructor(readonly limits: GuardLimits = GUARD_LIMITS) {}

  /** A link from `source` opens: whether it may stay (else: close it before reading). */
  admit(source: string): boolean {
    const held = this.#pending.get(source) ?? 0;
    if (held >= this.limits.pendingPerSource || this.#pendingTotal >= this.limits.pendingTotal) {
      return false;
    }
    this.#pending.set(source, held + 1);
    this.#pendingTotal++;
    return true;
  }

  /** An admitted link registered or closed before it did: its place is free. */
  settled(source: string): void {
    const held = this.#pending.get(source);
    if (held === undefined) return;
    if (held <= 1) this.#pending.delete(source);
    else this.#pending.set(source, held - 1);
    this.#pendingTotal--;
  }

  /** Links not registered yet, from every source. */
  get pending(): number {
    return this.#pendingTotal;
  }

  /** Why `source` may not try now (it failed too often in this window), or undefined. */
  locked(source: string, now: number): string | undefined {
    const w = this.#windows.get(this.#key(source));
    if (!w || now - w.start >= this.limits.windowMs) return undefined;
    if (w.failures < this.limits.failuresPerSource) return undefined;
    const waitS = Math.ceil((w.start + this.limits.windowMs - now) / 1000);
    return `too many failed registrations from ${source}; try again in ${waitS} s`;
  }

  /**
   * A registration from `source` was refused for `reason`. Returns what to record now: the
   * first refusal of a window, and the count of the previous window's others when it ended.
   */
  failed(source: string, now: number, reason: string, cpId?: string): RefusalRecord[] {
    const records = this.expire(now);
    const key = this.#key(source);
    let w = this.#windows.get(key);
    if (!w) {
      w = { start: now, failures: 0, unrecorded: 0, lastReason: reason };
      this.#windows.set(key, w);
      records.push({ detail: `${reason} (from ${source})`, cpId });
    } else w.unrecorded++;
    w.failures++;
    w.lastReason = reason;
    w.lastCp = cpId;
    return records;
  }

  /** Ends the windows that are over: the count of each one's unrecorded refusals. */
  expire(now: number): RefusalRecord[] {
    const records: RefusalRecord[] = [];
    for (const [source, w] of this.#windows) {
      if (now - w.start < this.limits.windowMs) continue;
      this.#windows.delete(source);
      if (w.unrecorded > 0) {
        records.push({
          detail: `${w.unrecorded} more refused registrations from ${source} in ` +
            `${this.limits.windowMs / 1000} s (the last: ${w.lastReason})`,
          cpId: w.lastCp,
        });
      }
    }
    return records;
  }

  #key(source: string): string {
    if (this.#windows.has(source) || this.#windows.size < this.limits.sources - 1) return source;
    return OTHERS;
  }
}
