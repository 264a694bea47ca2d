/**
 * The kafkajs client of every program: its logs go through ours, and the topics it needs
 * exist, with leaders, before anyone subscribes or sends.
 *
 * @module
 */
import { type Admin, Kafka, logLevel, type SASLOptions } from "kafkajs";
import "./kafkajs_warnings.ts";
import { errorText, logger } from "../process/log.ts";
import { retry } from "../process/retry.ts";
import { accessDenied, KafkaAccessDenied, noteGroupRefused, rememberUser } from "./access.ts";
import type { KafkaCredentials } from "./credentials.ts";

const kafkaLog = logger("kafka");

const RETRIABLE =
  /coordinator is not available|not the correct coordinator|leadership election|rebalanc/i;

// kafkajs drops this refusal and throws "Failed to find group coordinator" instead: its log
// line is the only place that still says why.
const GROUP_REFUSED = /Not authorized to access group/;

/** Partitions per topic: enough to spread CPs, few enough for a laptop broker. */
export const PARTITIONS = 3;

/**
 * Creates a kafkajs client for `broker` (`host:port`); with `credentials`, it authenticates
 * with SASL/SCRAM (over plaintext: a secure broker's listener is SASL_PLAINTEXT).
 */
export function createKafka(
  broker: string,
  clientId: string,
  credentials?: KafkaCredentials,
): Kafka {
  const kafka = new Kafka({
    clientId,
    brokers: [broker],
    ...(credentials ? { sasl: { ...credentials } as SASLOptions, ssl: false } : {}),
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 5000 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log }) => {
      const { message, error } = log as { message: string; error?: string };
      const text = error ? `${message}: ${error}` : message;
      if (GROUP_REFUSED.test(text)) noteGroupRefused(kafka);
      // kafkajs logs retriable conditions (a coordinator still being elected) as errors
      // and retries them itself; only what it gives up on deserves the operator's eye.
      if (level === logLevel.ERROR && !RETRIABLE.test(text)) kafkaLog.warn(text);
      else kafkaLog.debug(text);
    },
  });
  if (credentials) rememberUser(kafka, credentials.username);
  return kafka;
}

/**
 * Creates the topics that do not exist yet and waits until every partition of every topic has
 * a leader. Any program may be the first to start on a fresh broker, and several race to
 * create the topics: a topic that another program has just created is listed before its
 * partitions have leaders, and kafkajs then refuses to subscribe to it ("This server does not
 * host this topic-partition"), which made Central exit at the start of the demo.
 * `partitions`: of the topics it creates.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  partitions = PARTITIONS,
): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (e) {
    throw accessDenied(e, kafka) ?? e;
  }
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      // false when another program created them first. Leaders are waited for below, not by
      // kafkajs: its wait gives up at once when a new topic is not in the metadata yet.
      // On a secure broker only the admin creates topics (`deno task broker --secure`); a
      // program whose topic is missing says which, rather than retry what it may not do.
      const created = await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: partitions })),
        waitForLeaders: false,
      }).catch((e) => {
        // Topics a user may not describe are not listed: missing, or another role's.
        const denied = accessDenied(e, kafka, `see or create topic ${missing.join(", ")}`);
        if (!denied) throw e;
        throw new KafkaAccessDenied(
          `${denied.message}: is it this program's user? On a secure broker only the admin ` +
            "makes topics, each network's at start (deno task broker --secure --prefix <p>)",
        );
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
  try {
    await retry(async () => {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      const leaderless = topics.filter((name) => {
        const t = found.find((f) => f.name === name);
        return !t || t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0);
      });
      if (leaderless.length > 0) throw new Error(`no leader yet for ${leaderless.join(", ")}`);
    }, { delayMs: 200, timeoutMs: LEADERS_TIMEOUT_MS });
  } catch (e) {
    throw new Error(`topics not ready after ${LEADERS_TIMEOUT_MS / 1000} s: ${errorText(e)}`);
  }
}
