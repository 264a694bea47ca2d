/**
 * Thin helpers over kafkajs: a client whose logs go through ours, topic creation, a JSON
 * producer keyed by CP id, and a consumer that is ready only once it really fetches.
 *
 * @module
 */
import {
  type Consumer,
  type EachBatchPayload,
  Kafka,
  type KafkaMessage,
  logLevel,
  Partitioners,
  type Producer,
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

/** Creates the topics that do not exist yet and waits until they have leaders. */
export async function ensureTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await admin.createTopics({
      topics: missing.map((topic) => ({ topic, numPartitions: PARTITIONS })),
      waitForLeaders: true,
    });
    kafkaLog.info(`created topics ${missing.join(", ")}`);
  } finally {
    await admin.disconnect();
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
  /** Handles a batch of records; they are committed once it resolves. */
  onBatch: (records: KafkaRecord[]) => Promise<void> | void;
  log?: Logger;
}

/** A running consumer. */
export interface RunningConsumer {
  consumer: Consumer;
  stop(): Promise<void>;
}

/**
 * Subscribes and runs a consumer. Resolves once the group is joined and the first fetch has
 * returned, so offsets are resolved: a message produced after that is never missed.
 */
export async function startConsumer(opts: ConsumerOptions): Promise<RunningConsumer> {
  const log = opts.log ?? kafkaLog;
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: 6000,
    rebalanceTimeout: 6000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 100,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 3000 },
  });
  const ready = new Promise<void>((resolve) => {
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    consumer.on(consumer.events.FETCH, () => joined && resolve());
  });
  consumer.on(consumer.events.CRASH, (e) => {
    log.warn(`consumer ${opts.groupId} crashed: ${errorText(e.payload.error)}; restarting`);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning });
  await consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch, heartbeat }: EachBatchPayload) => {
      const records = batch.messages.map((m) => toRecord(batch.topic, batch.partition, m));
      await opts.onBatch(records);
      await heartbeat();
    },
  });
  await ready;
  return {
    consumer,
    async stop() {
      await consumer.disconnect();
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
