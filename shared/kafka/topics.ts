/**
 * Kafka topic names. The spec's names are the defaults; EV_TOPIC_PREFIX (or one variable
 * per topic) overrides them, so that tests and several networks can share one broker.
 *
 * @module
 */

/** The three topics of the system. */
export interface Topics {
  requests: string;
  telemetry: string;
  control: string;
}

/** The spec's topic names. */
export const SPEC_TOPICS: Readonly<Topics> = {
  requests: "requests_topic",
  telemetry: "telemetry_topic",
  control: "control_topic",
};

/** The topic names for this process's environment. */
export function topicNames(env: (name: string) => string | undefined = readEnv): Topics {
  const prefix = env("EV_TOPIC_PREFIX") ?? "";
  return {
    requests: env("EV_REQUESTS_TOPIC") ?? prefix + SPEC_TOPICS.requests,
    telemetry: env("EV_TELEMETRY_TOPIC") ?? prefix + SPEC_TOPICS.telemetry,
    control: env("EV_CONTROL_TOPIC") ?? prefix + SPEC_TOPICS.control,
  };
}

/**
 * The consumer group of a shared consumer (`base`) reading `topic`. Group ids are broker-wide,
 * so two networks on one broker must not share one: kafkajs' group leader hands out only the
 * partitions of its own topics, to every member, and a member subscribed to another topic drops
 * what it gets, so both networks would be left unread. A spec topic keeps the bare `base`, so
 * that an existing deployment resumes from its committed offsets.
 */
export function groupFor(base: string, topic: string): string {
  return Object.values(SPEC_TOPICS).includes(topic) ? base : `${base}.${topic}`;
}

/** How the Central that serves a network is chosen and fenced in Kafka (central/kafka_claim.ts). */
export interface NetworkClaimNames {
  /** A one-partition topic where the serving Central writes its heartbeat. */
  topic: string;
  /** The transactional id of the serving Central's producer: taking it fences the previous one. */
  transactionalId: string;
}

/**
 * The claim of the network whose control topic is `topics.control`: the network is where
 * Central's orders go, so two Centrals writing there share one claim whatever their database.
 */
export function networkClaimNames(topics: Topics): NetworkClaimNames {
  const control = topics.control;
  const base = control.endsWith(SPEC_TOPICS.control)
    ? control.slice(0, -SPEC_TOPICS.control.length) + "central_claim"
    : `${control}.central_claim`;
  return { topic: base, transactionalId: `ev-central.${control}` };
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
