/**
 * One active Central per database: a lease row (`central_lease`, id = 1) that the active
 * Central renews, and a fence that every write transaction runs first.
 *
 * Why split brain is impossible by construction, whatever the timing:
 * - A Central takes the lease in one statement that also raises the epoch (`epoch + 1`), and
 *   only when the row has expired (or is missing). SQLite runs write statements one at a time.
 * - Every write transaction of Central is `BEGIN IMMEDIATE` (central/db.ts): it holds the write
 *   lock from its first statement, and its first statement is {@link Lease.fence}, which reads
 *   the row and throws {@link LeaseLost} unless holder and epoch are still ours.
 * - So each write transaction of the old Central is either entirely before the takeover in the
 *   database's one order of writes (then the new Central, which loads its state after taking
 *   the lease, sees it) or entirely after it (then the fence sees the new epoch and the
 *   transaction writes nothing). There is no third case.
 * The fence does not look at `expires_at`: expiry only decides when a standby may take over,
 * and a write by a holder whose lease ran out but that nobody has taken yet is still ordered
 * before any takeover. Checking it would make safety depend on clocks and would stop a busy
 * Central that renewed late, for nothing.
 *
 * Time: `expires_at` is this machine's clock (Date.now()), which both Centrals share since
 * SQLite keeps them on one machine. A clock jump can only bring a takeover early or late; by
 * the argument above it can never let two Centrals write.
 *
 * @module
 */
import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import type { DatabaseSync } from "node:sqlite";

/** How long a lease lasts without renewal. */
export const LEASE_MS = 3000;
/** How often the active Central renews: three chances before it expires. */
export const RENEW_MS = 1000;
/**
 * How often a standby looks at the lease: a takeover comes at most LEASE_MS + STANDBY_POLL_MS
 * after the active Central's last renewal, 3.5 s, within the 5 s promised for a kill -9 (and
 * within one poll when the holder's process is seen gone).
 */
export const STANDBY_POLL_MS = 500;

/** The lease row. */
export interface LeaseRow {
  holder: string;
  epoch: number;
  expires_at: number;
}

/** Thrown by the fence and by renewal once another Central holds the lease. */
export class LeaseLost extends Error {
  override name = "LeaseLost";
}

/**
 * Whether a Central may take the lease now: there is none, it has expired, or its holder is
 * `gone` (a process of this machine that no longer runs: a restart after a kill -9 need not
 * wait for the expiry). Taking a lease too early is never unsafe, only rude: the fence stops
 * the old holder's writes either way.
 */
export function canTake(
  row: LeaseRow | undefined,
  now: number,
  gone: (holder: string) => boolean = () => false,
): boolean {
  return row === undefined || row.expires_at <= now || gone(row.holder);
}

/** Why the lease (holder, epoch) is no longer ours in `row`, or undefined when it still is. */
export function lostReason(
  row: LeaseRow | undefined,
  mine: { holder: string; epoch: number },
): string | undefined {
  if (row === undefined) return "the lease row is gone";
  if (row.holder === mine.holder && row.epoch === mine.epoch) return undefined;
  return `Central ${row.holder} took over the database (lease epoch ${row.epoch}, ours was ${mine.epoch})`;
}

/** A name for this Central in other Centrals' messages, unique thanks to its random part. */
export function holderName(host = hostname(), pid = Deno.pid): string {
  return `${host} pid ${pid} (${crypto.randomUUID().slice(0, 8)})`;
}

/**
 * Whether `holder` (a {@link holderName}) names a process of `host` that `running` says has
 * ended. A holder of another machine, or a name not ours, is never presumed gone.
 */
export function holderGone(
  holder: string,
  host: string,
  running: (pid: number) => boolean,
): boolean {
  const m = /^(.*) pid (\d+) \([0-9a-f]+\)$/.exec(holder);
  return m !== null && m[1] === host && !running(Number(m[2]));
}

/**
 * Whether process `pid` of this machine still runs (a zombie does not); where /proc cannot
 * tell, it is presumed to run, so the lease waits for its expiry.
 */
export function processRuns(pid: number): boolean {
  if (Deno.build.os !== "linux") return true;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

/** The lease as one Central holds it, on the connection its writes use. */
export class Lease {
  #epoch?: number;
  readonly #read;
  readonly #take;
  readonly #renew;
  readonly #release;

  /** `gone`: whether a holder is known to have died (by default: a process of this machine). */
  constructor(
    db: DatabaseSync,
    readonly holder: string = holderName(),
    readonly durationMs: number = LEASE_MS,
    readonly gone: (holder: string) => boolean = (h) => holderGone(h, hostname(), processRuns),
  ) {
    this.#read = db.prepare("SELECT holder, epoch, expires_at FROM central_lease WHERE id = 1");
    // One statement: the check and the epoch's rise cannot be split by another writer. A dead
    // holder's lease is taken only if the row is still the one seen (holder and epoch).
    this.#take = db.prepare(
      `INSERT INTO central_lease (id, holder, epoch, expires_at) VALUES (1, ?, 1, ?)
       ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, epoch = central_lease.epoch + 1,
         expires_at = excluded.expires_at WHERE central_lease.expires_at <= ?
           OR (central_lease.holder = ? AND central_lease.epoch = ?)
       RETURNING epoch`,
    );
    this.#renew = db.prepare(
      "UPDATE central_lease SET expires_at = ? WHERE id = 1 AND holder = ? AND epoch = ?",
    );
    this.#release = db.prepare(
      "UPDATE central_lease SET expires_at = 0 WHERE id = 1 AND holder = ? AND epoch = ?",
    );
  }

  /** The row as it is now. */
  current(): LeaseRow | undefined {
    return this.#read.get() as LeaseRow | undefined;
  }

  /** Our epoch once taken. */
  get epoch(): number | undefined {
    return this.#epoch;
  }

  /**
   * Takes the lease if it is free; returns undefined when taken, else the row of the Central
   * that holds it. The read first spares the active Central a write lock every poll.
   */
  tryAcquire(now = Date.now()): LeaseRow | undefined {
    const row = this.current();
    if (!canTake(row, now, this.gone)) return row;
    const dead = row !== undefined && row.expires_at > now;
    const taken = this.#take.get(
      this.holder,
      now + this.durationMs,
      now,
      dead ? row.holder : "",
      dead ? row.epoch : -1,
    ) as { epoch: number } | undefined;
    if (taken === undefined) return this.current(); // another standby was quicker
    this.#epoch = taken.epoch;
    return undefined;
  }

  /** Extends the lease; throws {@link LeaseLost} when it is no longer ours. */
  renew(now = Date.now()): void {
    const epoch = this.#held();
    const { changes } = this.#renew.run(now + this.durationMs, this.holder, epoch);
    if (changes === 1) return;
    const why = lostReason(this.current(), { holder: this.holder, epoch });
    throw new LeaseLost(why ?? "the lease was not renewed");
  }

  /** The fence: run first inside every write transaction; throws {@link LeaseLost}. */
  fence(): void {
    const why = lostReason(this.current(), { holder: this.holder, epoch: this.#held() });
    if (why !== undefined) throw new LeaseLost(why);
  }

  /** Lets a standby take over at once (clean stop); nothing if the lease is no longer ours. */
  release(): void {
    if (this.#epoch !== undefined) this.#release.run(this.holder, this.#epoch);
  }

  #held(): number {
    if (this.#epoch === undefined) throw new LeaseLost("this Central never held the lease");
    return this.#epoch;
  }
}

/**
 * Takes the lease, waiting as the standby while another Central holds it: `standby` is told
 * once, with the holder's name. Resolves when the lease is ours; rejects when `signal` aborts.
 */
export async function acquire(
  lease: Lease,
  standby: (holder: string) => void,
  signal?: AbortSignal,
  pollMs = STANDBY_POLL_MS,
): Promise<void> {
  let told = false;
  for (;;) {
    signal?.throwIfAborted();
    const holder = lease.tryAcquire();
    if (holder === undefined) return;
    if (!told) standby(holder.holder);
    told = true;
    await delay(pollMs, undefined, { signal });
  }
}

/**
 * Renews the lease every `everyMs` until the returned stop is called. `lost` is called once
 * when the lease is gone; a renewal that fails for another reason (the database busy) is
 * retried at the next tick, and the fence keeps writes safe meanwhile.
 */
export function keepRenewing(
  lease: Lease,
  lost: (why: string) => void,
  problem: (why: string) => void,
  everyMs = RENEW_MS,
): () => void {
  const timer = setInterval(() => {
    try {
      lease.renew();
    } catch (e) {
      if (e instanceof LeaseLost) {
        clearInterval(timer);
        lost(e.message);
      } else problem((e as Error).message);
    }
  }, everyMs);
  return () => clearInterval(timer);
}
