/**
 * One active Central per network (its topic prefix), whatever database each Central uses: the
 * database lease (central/lease.ts) cannot see a Central on another database, Kafka can.
 *
 * Safety is Kafka's producer fencing, not timing: the serving Central writes everything —
 * its orders, tickets and acknowledgements (the outbox), its consumers' offsets and its
 * heartbeat — in transactions of a ring of transactional ids per network
 * ({@link networkClaimNames}, TransactionalProducer). A Central that takes over first takes
 * those ids (InitProducerId): the broker raises their epochs, aborts the old holder's open
 * transaction, and refuses every later produce, offset commit or commit of the old holder.
 * So nothing the old holder writes after the takeover is in the log at all; what it wrote
 * before is, and engines and drivers (which read uncommitted records) may have acted on it,
 * as they would on anything written before the takeover. Its next heartbeat (every second) or
 * send fails, and it exits 3. Whatever the timing, the writes of the two are never
 * interleaved: in every partition, all of the old holder's records come before the new one's.
 * Offsets committed in an aborted transaction never take effect: what the old holder read
 * and never answered is read again by the new one.
 *
 * Liveness is the heartbeat: the holder writes a record to the one-partition claim topic
 * every {@link CLAIM_RENEW_MS}, and commits the transaction it ends. Another Central watches the topic's end offset: while it moves,
 * the network is served and this one is the standby; once it has stood still for
 * {@link CLAIM_TIMEOUT_MS} of polls that reached the broker, or the topic is empty (never used,
 * or released by a clean stop), it takes over. Timing only decides when, never whether two
 * write: a takeover too early only fences a live holder, which then stops.
 *
 * @module
 */
import type { Admin, Kafka } from "kafkajs";
import { setTimeout as delay } from "node:timers/promises";
import { ensureTopics } from "../shared/kafka/client.ts";
import { ProducerFenced, ProducerWedged, TransactionalProducer } from "../shared/kafka/producer.ts";
import type { NetworkClaimNames } from "../shared/kafka/topics.ts";
import { errorText } from "../shared/process/log.ts";

/** How often the serving Central commits its heartbeat. */
export const CLAIM_RENEW_MS = 1000;
/**
 * How long the claim topic must stand still before a standby takes over: three heartbeats.
 * With {@link CLAIM_POLL_MS}, a takeover comes at most 3.5 s after the holder's last
 * heartbeat, plus the takeover's own round trips: within the 5 s promised for a kill -9.
 */
export const CLAIM_TIMEOUT_MS = 3000;
/** How often a standby reads the claim topic's offsets. */
export const CLAIM_POLL_MS = 500;

/**
 * The claim topic's offsets: the first kept and the next to be written; `recent`, the first
 * whose record is stamped within the timeout before now (`high` when none is).
 */
export interface ClaimLog {
  low: number;
  high: number;
  recent?: number;
}

/**
 * How long a watch must see the topic stand still when its records' stamps say it has been
 * quiet for the timeout already (a restart after a kill -9): longer than one heartbeat
 * period, so that a live holder whose clock is behind still shows that it is alive.
 */
export const CLAIM_STILL_MS = 1500;

/**
 * What the claim topic says: `free` (empty), `held` (it moved since the watch began),
 * `dead` (it stood still for the timeout), or `unknown` (too soon, or the broker unreachable).
 */
export type ClaimVerdict = "free" | "held" | "dead" | "unknown";

/**
 * Judges the claim topic from successive polls. Only polls that reached the broker count: an
 * outage of the broker, or of this Central's link to it, never makes a holder look dead.
 */
export class ClaimWatch {
  #high?: number;
  #lastOkAt?: number;
  #quietMs = 0;
  #moved = false;

  constructor(readonly timeoutMs = CLAIM_TIMEOUT_MS) {}

  /** The verdict after a poll at `now`: the offsets, or undefined when the poll failed. */
  observe(now: number, log: ClaimLog | undefined): ClaimVerdict {
    if (log === undefined) {
      this.#lastOkAt = undefined; // the gap until the next good poll does not count
      return "unknown";
    }
    if (log.low >= log.high) return "free";
    if (this.#high !== undefined && log.high !== this.#high) {
      this.#moved = true;
      this.#quietMs = 0;
    } else if (this.#lastOkAt !== undefined) this.#quietMs += now - this.#lastOkAt;
    this.#high = log.high;
    this.#lastOkAt = now;
    if (this.#quietMs >= this.timeoutMs) return "dead";
    // The stamps are the holder's clock: they may bring a takeover early, never make it unsafe.
    const stampedQuiet = log.recent !== undefined && log.recent >= log.high;
    if (stampedQuiet && this.#quietMs >= CLAIM_STILL_MS) return "dead";
    return this.#moved ? "held" : "unknown";
  }
}

/** The network claim as one Central holds or waits for it. */
export class NetworkClaim {
  /** The producer of every write of the serving Central: the outbox's too. */
  readonly producer: TransactionalProducer;
  readonly #admin: Admin;
  /** The claim topic's end after our last heartbeat: what a clean stop releases. */
  #end?: number;
  #lost = false;
  #connected?: Promise<void>;
  /** The watch begun by {@link watchEarly}, if any. */
  #early?: ClaimWatch;
  #timer?: ReturnType<typeof setInterval>;
  /** The heartbeat under way, if any. */
  #beating?: Promise<void>;

  constructor(
    readonly kafka: Kafka,
    readonly names: NetworkClaimNames,
    readonly holder: string,
    readonly pollMs = CLAIM_POLL_MS,
    readonly timeoutMs = CLAIM_TIMEOUT_MS,
  ) {
    this.producer = new TransactionalProducer(kafka, names.transactionalId);
    this.#admin = kafka.admin();
  }

  /** Creates the claim topic (one partition: one order of heartbeats) and connects. */
  connect(): Promise<void> {
    this.#connected ??= (async () => {
      await ensureTopics(this.kafka, [this.names.topic], 1);
      await this.#admin.connect();
      await this.producer.connect();
    })().catch((e) => {
      this.#connected = undefined;
      throw e;
    });
    return this.#connected;
  }

  /**
   * Starts judging the claim topic before this Central may take it, until {@link acquire}
   * goes on with what it saw or `signal` aborts. A standby of the database calls this while
   * it waits, so that taking over both the database and the network after a kill -9 costs
   * one timeout, not two in a row. The broker away only makes it wait.
   */
  watchEarly(signal: AbortSignal): void {
    const watch = this.#early = new ClaimWatch(this.timeoutMs);
    void (async () => {
      while (!signal.aborted && this.#early === watch) {
        const log = await this.connect().then(() => this.#log(), () => undefined);
        if (this.#early !== watch) break;
        watch.observe(Date.now(), log);
        await delay(this.pollMs, undefined, { signal }).catch(() => {});
      }
    })();
  }

  /**
   * Takes the claim, waiting as the standby while another Central's heartbeat goes on:
   * `standby` is told once. Resolves when the claim is ours; rejects when `signal` aborts.
   */
  async acquire(standby: () => void, signal?: AbortSignal): Promise<void> {
    await this.connect();
    const watch = this.#early ?? new ClaimWatch(this.timeoutMs);
    this.#early = undefined;
    await this.#watch(watch, standby, signal);
    await this.producer.fence();
    await this.#beat();
  }

  /** Polls until the claim is free or dead; `held` calls `onHeld` (once) and goes on. */
  async #watch(
    watch: ClaimWatch,
    onHeld: () => void,
    signal?: AbortSignal,
    stopWhenHeld = false,
  ): Promise<ClaimVerdict> {
    let told = false;
    for (;;) {
      signal?.throwIfAborted();
      const verdict = watch.observe(Date.now(), await this.#log());
      if (verdict === "free" || verdict === "dead") return verdict;
      if (verdict === "held" && !told) {
        told = true;
        onHeld();
        if (stopWhenHeld) return verdict;
      }
      await delay(this.pollMs, undefined, { signal });
    }
  }

  async #log(): Promise<ClaimLog | undefined> {
    try {
      const topic = this.names.topic;
      const [p] = await this.#admin.fetchTopicOffsets(topic);
      const [r] = await this.#admin.fetchTopicOffsetsByTimestamp(
        topic,
        Date.now() - this.timeoutMs,
      );
      if (p === undefined) return undefined;
      return { low: Number(p.low), high: Number(p.high), recent: r && Number(r.offset) };
    } catch {
      return undefined;
    }
  }

  /** Writes a heartbeat and commits the transaction it ends (the outbox's sends since the last). */
  async #beat(): Promise<void> {
    const value = JSON.stringify({ holder: this.holder, at: new Date().toISOString() });
    const [sent] = await this.producer.sendRaw(this.names.topic, [{ key: "claim", value }]);
    await this.producer.commit();
    // The record, then its transaction's commit marker.
    if (sent?.baseOffset !== undefined) this.#end = Number(sent.baseOffset) + 2;
  }

  /**
   * Commits the heartbeat every {@link CLAIM_RENEW_MS} until {@link release}. `lost` is
   * called once when another Central took the claim; a heartbeat that fails otherwise (the
   * broker away) is tried again at the next tick, and the fence keeps writes safe meanwhile.
   */
  keepClaiming(lost: (why: string) => void, problem: (why: string) => void): void {
    this.#timer = setInterval(() => {
      if (this.#beating || this.#lost) return;
      this.#beating = this.#beat()
        .catch((e) => {
          if (e instanceof ProducerFenced) this.#loseClaim(lost, e.message);
          else if (e instanceof ProducerWedged) return this.#recover(lost, problem);
          else problem(errorText(e));
        })
        .catch((e) => problem(errorText(e)))
        .finally(() => (this.#beating = undefined));
    }, CLAIM_RENEW_MS);
  }

  #loseClaim(lost: (why: string) => void, why: string): void {
    this.#lost = true;
    clearInterval(this.#timer);
    lost(why);
  }

  /**
   * kafkajs lost a commit's outcome and must take the id again, which would fence a Central
   * that took over meanwhile. So this Central first watches the claim topic, as a standby
   * would, with its own heartbeat stopped: if anyone else's moves it, the claim is lost;
   * only if it stays still for the timeout (or is free) is the id taken again.
   */
  async #recover(lost: (why: string) => void, problem: (why: string) => void): Promise<void> {
    problem("Kafka lost a transaction's outcome; checking that the network is still ours");
    const verdict = await this.#watch(new ClaimWatch(this.timeoutMs), () => {}, undefined, true);
    if (verdict === "held") {
      this.#loseClaim(lost, "another Central claimed the network while Kafka was away");
      return;
    }
    await this.producer.renew();
    await this.#beat();
  }

  /**
   * After a clean stop (the outbox done): empties the claim topic up to our last heartbeat,
   * so that a standby or the next Central takes over at once. A later heartbeat of another
   * Central stays, so this can never release a claim that is not ours.
   */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    await this.#beating;
    const end = this.#end;
    try {
      // The consumers' last offsets are in the open transaction.
      if (!this.#lost) await this.producer.commit().catch(() => {});
      if (!this.#lost && end !== undefined) {
        await this.#admin.deleteTopicRecords({
          topic: this.names.topic,
          partitions: [{ partition: 0, offset: String(end) }],
        });
      }
    } finally {
      await this.producer.disconnect().catch(() => {});
      await this.#admin.disconnect().catch(() => {});
    }
  }
}
