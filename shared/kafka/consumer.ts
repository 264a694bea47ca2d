/**
 * A consumer group member that is ready only once it really fetches, parses every record
 * with a parser from the catalogue (what does not parse is skipped with a reason, never
 * thrown), commits outside kafkajs' fetch loop, and is rebuilt when kafkajs gives up on it.
 *
 * @module
 */
import type {
  Consumer,
  EachBatchPayload,
  IHeaders,
  Kafka,
  KafkaMessage,
  TopicPartitionOffset,
} from "kafkajs";
import { setTimeout as delay } from "node:timers/promises";
import { errorText, type Logger, logger } from "../process/log.ts";
import { retry } from "../process/retry.ts";
import { decodeJson } from "../protocol/decode.ts";
import { accessDenied } from "./access.ts";
import { ensureTopics } from "./client.ts";

const kafkaLog = logger("kafka");

/** One consumed record, its value decoded as text (not yet validated). */
export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Broker timestamp in milliseconds. */
  timestamp: number;
  key: string | undefined;
  text: string;
  /** The value's bytes as the broker holds them: what a CP's authentication code covers. */
  bytes: Uint8Array;
  /** The record's headers as kafkajs gives them (e.g. a CP's authentication code). */
  headers: IHeaders | undefined;
}

/** A record and the message it holds (one object: Central reads thousands a second). */
export interface Consumed<T> extends KafkaRecord {
  message: T;
}

/** Options for {@link startConsumer}. */
/** Commits a consumer group's offsets on its behalf (e.g. in a producer's transaction). */
export interface OffsetsCommitter {
  commitOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>;
}

/** What {@link startConsumer} runs. */
export interface ConsumerOptions<T> {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Where a new group starts: the oldest message (true) or only new ones (false). */
  fromBeginning: boolean;
  /**
   * Turns a record's JSON into a message (a parser of the catalogue; the record gives the
   * topic and what a message may lack, e.g. an id). What it refuses goes to `onInvalid`.
   */
  parse: (raw: unknown, record: KafkaRecord) => T;
  /** Told of each record that is not a message; by default one warning line. */
  onInvalid?: (record: KafkaRecord, error: string) => void;
  /**
   * Handles a batch of messages (the invalid ones left out); the batch is committed once it
   * resolves (see COMMIT_EVERY_MS).
   */
  onBatch: (messages: Consumed<T>[]) => Promise<void> | void;
  /** Runs before offsets are committed: what must be stored before Kafka forgets records. */
  beforeCommit?: () => Promise<void>;
  /**
   * Commits the group's offsets instead of the group member: Central's go through its fenced
   * producer (in a transaction), so that a Central that lost the network cannot move them.
   */
  commitOffsets?: OffsetsCommitter["commitOffsets"];
  /**
   * Commit only every COMMIT_EVERY_MS instead of right after each batch: for a consumer
   * whose `beforeCommit` is worth doing once for many batches.
   */
  commitPeriodically?: boolean;
  /** Called after every fetch (even an empty one): a sign that Kafka is reachable. */
  onFetch?: () => void;
  /**
   * Rebuilds the consumer — new connections, a new group member — when, after it has fetched,
   * no fetch completes for this long. Without it kafkajs keeps the sockets a partition left
   * dead: each request waits out the request timeout, and only then it learns that the broker
   * dropped the member and joins again, about 20 s after the heal. Off by default: for a
   * consumer with a single member per group, whose orders must flow again soon after a heal.
   */
  stallRebuildMs?: number;
  log?: Logger;
}

/**
 * kafkajs commits after every batch inside its fetch loop: a round trip to the broker (tens
 * of milliseconds when it is busy) before the next fetch, that a driver's request arriving
 * meanwhile waits out. Consumers here commit outside that loop: right after each batch
 * without holding up the next fetch (batches handled during a commit go in the next one),
 * or every COMMIT_EVERY_MS with `commitPeriodically`; a commit that failed is tried again
 * at that period. Prompt commits matter to a consumer that starts from the latest offset
 * (a driver): one that is rebuilt after a broker outage resumes from its committed offset,
 * so a ticket sent meanwhile is not skipped. What is handled but not yet committed is read
 * again after a crash: every receiver drops duplicates (by message id, or by sequence).
 */
export const COMMIT_EVERY_MS = 1000;

/** How often a consumer that kafkajs gave up on is rebuilt, until one runs. */
const RELAUNCH_MS = 2000;

/**
 * How long a rebuild waits for the consumer it replaces to leave its group: a dead connection
 * would hold it up for the request timeout and more, and the broker drops that member anyway.
 */
const LEAVE_WAIT_MS = 1000;

/** A running consumer. */
export interface RunningConsumer {
  stop(): Promise<void>;
}

/**
 * Subscribes and runs a consumer, creating its topics if they do not exist yet. Resolves once
 * the group is joined and the first fetch has returned, so offsets are resolved: a message
 * produced after that is never missed.
 *
 * kafkajs restarts a crashed consumer itself, except after errors it deems final (e.g. no
 * group coordinator while the broker is down); then this supervisor builds a new consumer,
 * every 2 s until one runs, so a broker outage never leaves a program deaf. With
 * `stallRebuildMs` it also replaces a consumer whose fetches stopped; a replaced consumer's
 * late batches are dropped, unhandled and uncommitted: the new one reads them again from the
 * committed offsets.
 */
export async function startConsumer<T>(opts: ConsumerOptions<T>): Promise<RunningConsumer> {
  const log = opts.log ?? kafkaLog;
  const onInvalid = opts.onInvalid ??
    ((r, error) => log.warn(`skipped ${r.topic} message at ${r.partition}/${r.offset}: ${error}`));
  const decode = (messages: KafkaMessage[], topic: string, partition: number) => {
    const out: Consumed<T>[] = [];
    for (const m of messages) {
      const record = toRecord(topic, partition, m) as Consumed<T>;
      const decoded = decodeJson(record.text, opts.parse, record);
      if (decoded.ok) {
        record.message = decoded.value;
        out.push(record);
      } else onInvalid(record, decoded.error);
    }
    return out;
  };
  const stop = new AbortController();
  let current: Consumer | undefined;
  // Consumers being replaced: each is relaunched once, whoever notices first.
  const replaced = new WeakSet<Consumer>();
  // When the current consumer last completed a fetch; undefined until its first one.
  let lastFetch: number | undefined;

  // Per topic-partition, the offset after the last handled record, until committed.
  let handled = new Map<string, TopicPartitionOffset>();
  let committing: Promise<void> | undefined;
  const commit = (consumer: Consumer): Promise<void> => {
    if (committing || handled.size === 0) return committing ?? Promise.resolve();
    const offsets = handled;
    handled = new Map();
    let done = false;
    committing = (async () => {
      await opts.beforeCommit?.();
      const list = [...offsets.values()];
      await (opts.commitOffsets?.(opts.groupId, list) ?? consumer.commitOffsets(list));
      done = true;
    })()
      .catch((e) => {
        log.debug(`consumer ${opts.groupId} could not commit (${errorText(e)}); will retry`);
        for (const [key, o] of offsets) if (!handled.has(key)) handled.set(key, o);
      })
      .finally(() => {
        committing = undefined;
        if (done && !opts.commitPeriodically && !stop.signal.aborted) void commit(consumer);
      });
    return committing;
  };
  let commitTimer: ReturnType<typeof setInterval> | undefined;

  const launch = async (): Promise<{ consumer: Consumer; ready: Promise<void> }> => {
    const consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      // Central writes in transactions only so that Kafka fences a Central that lost the
      // network (TransactionalProducer): its records count once acknowledged, not a commit later.
      readUncommitted: true,
      sessionTimeout: 6000,
      rebalanceTimeout: 6000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 3000 },
    });
    current = consumer;
    lastFetch = undefined;
    let refuse = (_: Error) => {};
    const ready = new Promise<void>((resolve, reject) => {
      refuse = reject;
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joined = true;
        banish(consumer);
      });
      consumer.on(consumer.events.FETCH, () => {
        if (consumer === current) lastFetch = Date.now();
        opts.onFetch?.();
        if (joined) resolve();
      });
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const again = e.payload.restart;
      // An ACL refusal names the user and what it may not do: kafkajs' text says neither.
      const what = `read ${opts.topics.join(", ")} in consumer group ${opts.groupId}`;
      const denied = accessDenied(e.payload.error, opts.kafka, what);
      // Refused before it ever ran: a refusal is final, and the program says so and stops
      // rather than wait for a consumer that cannot be ready.
      if (denied && lastFetch === undefined && consumer === current && !replaced.has(consumer)) {
        replaced.add(consumer);
        void consumer.disconnect().catch(() => {});
        refuse(denied);
        return;
      }
      const why = denied?.message ?? errorText(e.payload.error);
      log.warn(
        `consumer ${opts.groupId} crashed: ${why}; ` +
          (again ? "kafkajs restarts it" : "starting a new one"),
      );
      if (!again && !stop.signal.aborted) void relaunch(consumer, "crashed");
    });
    await consumer.connect();
    await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, heartbeat }: EachBatchPayload) => {
        // A replaced consumer's fetch that was still in flight: its successor reads it again.
        if (consumer !== current) return banish(consumer);
        await opts.onBatch(decode(batch.messages, batch.topic, batch.partition));
        handled.set(`${batch.topic}/${batch.partition}`, {
          topic: batch.topic,
          partition: batch.partition,
          offset: String(BigInt(batch.lastOffset()) + 1n),
        });
        if (!opts.commitPeriodically) void commit(consumer);
        await heartbeat();
      },
    });
    clearInterval(commitTimer);
    commitTimer = setInterval(() => void commit(consumer), COMMIT_EVERY_MS);
    // Only the first launch's refusal is awaited (by startConsumer); a relaunch's is logged.
    ready.catch(() => {});
    return { consumer, ready };
  };

  // A replaced consumer whose leave failed (its connections were dead) is retried by kafkajs
  // and may join the group again once the network heals. Then it holds some partitions and
  // drops their batches, so their records are never handled (chaos seed 20261205: an engine
  // never got a START_SUPPLY, nor the resent STOP_SUPPLYs). Whenever it shows up, it leaves.
  const banish = (consumer: Consumer): void => {
    if (consumer === current) return;
    log.debug(`consumer ${opts.groupId}: a replaced member came back; it leaves the group`);
    void consumer.disconnect().catch(() => {});
  };

  // Every RELAUNCH_MS until a new consumer runs, or this one is stopped. A crashed consumer
  // is replaced after RELAUNCH_MS (kafkajs gave up: the broker is away); a stalled one at
  // once, without waiting long for it to leave.
  const relaunch = async (dead: Consumer, why: "crashed" | "stalled") => {
    if (replaced.has(dead) || dead !== current) return;
    replaced.add(dead);
    clearInterval(commitTimer);
    const left = dead.disconnect().catch(() => {});
    const attempt = async () => {
      try {
        await launch();
      } catch (e) {
        await current?.disconnect().catch(() => {});
        throw e;
      }
    };
    try {
      if (why === "crashed") {
        await left;
        await delay(RELAUNCH_MS, undefined, { signal: stop.signal });
      } else await Promise.race([left, delay(LEAVE_WAIT_MS, undefined, { signal: stop.signal })]);
      await retry(attempt, {
        delayMs: RELAUNCH_MS,
        signal: stop.signal,
        onError: (e) => log.debug(`consumer ${opts.groupId} not back yet: ${errorText(e)}`),
      });
      log.info(`consumer ${opts.groupId} running again`);
    } catch {
      // stopped meanwhile
    }
  };

  await ensureTopics(opts.kafka, opts.topics);
  const first = await launch();
  await first.ready;
  const stallMs = opts.stallRebuildMs;
  const watchdog = stallMs === undefined ? undefined : setInterval(() => {
    const quietMs = lastFetch === undefined ? 0 : Date.now() - lastFetch;
    if (quietMs < stallMs || !current || stop.signal.aborted) return;
    log.warn(
      `consumer ${opts.groupId}: no fetch for ${(quietMs / 1000).toFixed(1)} s; ` +
        "replacing it (new connections, new group member)",
    );
    void relaunch(current, "stalled");
  }, Math.min(1000, stallMs / 2));
  return {
    async stop() {
      stop.abort();
      clearInterval(watchdog);
      clearInterval(commitTimer);
      if (current) {
        await committing;
        await commit(current);
        await current.disconnect();
      }
    },
  };
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

// Built with its `message` slot from the start, so that every record has one shape.
function toRecord(topic: string, partition: number, m: KafkaMessage): Consumed<unknown> {
  return {
    topic,
    partition,
    offset: m.offset,
    timestamp: Number(m.timestamp),
    key: m.key ? decoder.decode(m.key) : undefined,
    text: m.value ? decoder.decode(m.value) : "",
    bytes: m.value ?? EMPTY,
    headers: m.headers,
    message: undefined,
  };
}
