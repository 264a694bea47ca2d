/**
 * Thin helpers over kafkajs: a client whose logs go through ours, topic creation, a JSON
 * producer keyed by CP id, and a consumer that is ready only once it really fetches.
 *
 * @module
 */
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  Kafka,
  type KafkaMessage,
  logLevel,
  Partitioners,
  type Producer,
  type TopicPartitionOffset,
} from "kafkajs";
import "./kafkajs_warnings.ts";
import { errorText, type Logger, logger } from "./log.ts";

const kafkaLog = logger("kafka");

const RETRIABLE =
  /coordinator is not available|not the correct coordinator|leadership election|rebalanc/i;

/** Partitions per topic: enough to spread CPs, few enough for a laptop broker. */
export const PARTITIONS = 3;

/** Creates a kafkajs client for `broker` (`host:port`). */
export function createKafka(broker: string, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [broker],
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log }) => {
      const { message, error } = log as { message: string; error?: string };
      const text = error ? `${message}: ${error}` : message;
      // kafkajs logs retriable conditions (a coordinator still being elected) as errors
      // and retries them itself; only what it gives up on deserves the operator's eye.
      if (level === logLevel.ERROR && !RETRIABLE.test(text)) kafkaLog.warn(text);
      else kafkaLog.debug(text);
    },
  });
}

/**
 * Creates the topics that do not exist yet and waits until every partition of every topic has
 * a leader. Any program may be the first to start on a fresh broker, and several race to
 * create the topics: a topic that another program has just created is listed before its
 * partitions have leaders, and kafkajs then refuses to subscribe to it ("This server does not
 * host this topic-partition"), which made Central exit at the start of the demo.
 */
export async function ensureTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      // false when another program created them first. Leaders are waited for below, not by
      // kafkajs: its wait gives up at once when a new topic is not in the metadata yet.
      const created = await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: PARTITIONS })),
        waitForLeaders: false,
      });
      if (created) kafkaLog.info(`created topics ${missing.join(", ")}`);
    }
    await waitForLeaders(admin, topics);
  } finally {
    await admin.disconnect();
  }
}

/** How long {@link ensureTopics} waits for partition leaders. */
const LEADERS_TIMEOUT_MS = 30_000;

async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + LEADERS_TIMEOUT_MS;
  for (;;) {
    let why: string;
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      const leaderless = topics.filter((name) => {
        const t = found.find((f) => f.name === name);
        return !t || t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0);
      });
      if (leaderless.length === 0) return;
      why = `no leader yet for ${leaderless.join(", ")}`;
    } catch (e) {
      why = errorText(e);
    }
    if (Date.now() > deadline) {
      throw new Error(`topics not ready after ${LEADERS_TIMEOUT_MS / 1000} s: ${why}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A producer of JSON messages. */
export class JsonProducer {
  readonly #producer: Producer;

  constructor(kafka: Kafka) {
    this.#producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  /** Sends messages to `topic`, each keyed (by CP id) so one CP's messages stay in order. */
  async send(topic: string, messages: { key: string; value: unknown }[]): Promise<void> {
    if (messages.length === 0) return;
    await this.sendRaw(
      topic,
      messages.map((m) => ({ key: m.key, value: JSON.stringify(m.value) })),
    );
  }

  /** Sends values that are already JSON text. */
  async sendRaw(topic: string, messages: { key: string; value: string }[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#producer.send({ topic, acks: -1, messages });
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect();
  }
}

/** One consumed record, its value parsed as JSON text (not yet validated). */
export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Broker timestamp in milliseconds. */
  timestamp: number;
  key: string | undefined;
  text: string;
}

/** Options for {@link startConsumer}. */
export interface ConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  /** Where a new group starts: the oldest message (true) or only new ones (false). */
  fromBeginning: boolean;
  /** Handles a batch of records; they are committed once it resolves (see COMMIT_EVERY_MS). */
  onBatch: (records: KafkaRecord[]) => Promise<void> | void;
  /** Runs before offsets are committed: what must be stored before Kafka forgets records. */
  beforeCommit?: () => Promise<void>;
  /**
   * Commit only every COMMIT_EVERY_MS instead of right after each batch: for a consumer
   * whose `beforeCommit` is worth doing once for many batches.
   */
  commitPeriodically?: boolean;
  /** Called after every fetch (even an empty one): a sign that Kafka is reachable. */
  onFetch?: () => void;
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
 * every 2 s until one runs, so a broker outage never leaves a program deaf.
 */
export async function startConsumer(opts: ConsumerOptions): Promise<RunningConsumer> {
  const log = opts.log ?? kafkaLog;
  let stopped = false;
  let current: Consumer | undefined;

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
      await consumer.commitOffsets([...offsets.values()]);
      done = true;
    })()
      .catch((e) => {
        log.debug(`consumer ${opts.groupId} could not commit (${errorText(e)}); will retry`);
        for (const [key, o] of offsets) if (!handled.has(key)) handled.set(key, o);
      })
      .finally(() => {
        committing = undefined;
        if (done && !opts.commitPeriodically && !stopped) void commit(consumer);
      });
    return committing;
  };
  let commitTimer: ReturnType<typeof setInterval> | undefined;

  const launch = async (): Promise<{ consumer: Consumer; ready: Promise<void> }> => {
    const consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: 6000,
      rebalanceTimeout: 6000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 3000 },
    });
    current = consumer;
    const ready = new Promise<void>((resolve) => {
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
      consumer.on(consumer.events.FETCH, () => {
        opts.onFetch?.();
        if (joined) resolve();
      });
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const again = e.payload.restart;
      log.warn(
        `consumer ${opts.groupId} crashed: ${errorText(e.payload.error)}; ` +
          (again ? "kafkajs restarts it" : "starting a new one"),
      );
      if (!again && !stopped) void relaunch(consumer);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, heartbeat }: EachBatchPayload) => {
        const records = batch.messages.map((m) => toRecord(batch.topic, batch.partition, m));
        await opts.onBatch(records);
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
    return { consumer, ready };
  };

  const relaunch = async (dead: Consumer) => {
    clearInterval(commitTimer);
    await dead.disconnect().catch(() => {});
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 2000));
      if (stopped) return;
      try {
        await launch();
        log.info(`consumer ${opts.groupId} running again`);
        return;
      } catch (e) {
        await current?.disconnect().catch(() => {});
        log.debug(`consumer ${opts.groupId} not back yet: ${errorText(e)}`);
      }
    }
  };

  await ensureTopics(opts.kafka, opts.topics);
  const first = await launch();
  await first.ready;
  return {
    async stop() {
      stopped = true;
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

function toRecord(topic: string, partition: number, m: KafkaMessage): KafkaRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    timestamp: Number(m.timestamp),
    key: m.key ? decoder.decode(m.key) : undefined,
    text: m.value ? decoder.decode(m.value) : "",
  };
}
