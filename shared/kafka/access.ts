/**
 * Kafka refusing who a program is (SASL) or what it asks (ACLs), said in one clear line that
 * names the user and what was refused. kafkajs says only "SASL SCRAM SHA256 authentication
 * failed" or "Not authorized to access topics: [Topic authorization failed]", buried in retry
 * wrappers, without the user or the topic; and a refusal is final, so the programs stop with
 * this line instead of retrying what can never succeed.
 *
 * @module
 */
import type { Kafka } from "kafkajs";

/** Kafka refused the credentials or an operation: retrying cannot help. */
export class KafkaAccessDenied extends Error {
  override name = "KafkaAccessDenied";
}

const users = new WeakMap<Kafka, string>();

/** Remembers which user `kafka` connects as (createKafka), for the messages below. */
export function rememberUser(kafka: Kafka, username: string): void {
  users.set(kafka, username);
}

/** The user `kafka` connects as, if any. */
export function kafkaUser(kafka: Kafka): string | undefined {
  return users.get(kafka);
}

const groupRefusals = new WeakSet<Kafka>();

/**
 * Notes that the broker refused `kafka` a consumer group. kafkajs throws only "Failed to find
 * group coordinator" for it, the refusal being in its log alone (createKafka watches it).
 */
export function noteGroupRefused(kafka: Kafka): void {
  groupRefusals.add(kafka);
}

/** What an ACL refusal was about, by kafkajs' error type. */
const RESOURCES: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: "topic",
  GROUP_AUTHORIZATION_FAILED: "consumer group",
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "transactional id",
  CLUSTER_AUTHORIZATION_FAILED: "cluster",
};

/**
 * If `e` is Kafka refusing the credentials or an operation, the {@link KafkaAccessDenied} that
 * says so; otherwise undefined. `kafka` gives the user; `what` says what was asked, e.g.
 * "write to topic telemetry_topic" (a refused topic creation names its topic by itself).
 */
export function accessDenied(
  e: unknown,
  kafka: Kafka | undefined,
  what?: string,
): KafkaAccessDenied | undefined {
  if (e instanceof KafkaAccessDenied) return e;
  const user = kafka ? kafkaUser(kafka) : undefined;
  for (const cause of causes(e)) {
    const { name, type, topic } = cause as { name?: string; type?: string; topic?: string };
    if (name === "KafkaJSSASLAuthenticationError" || type === "SASL_AUTHENTICATION_FAILED") {
      return new KafkaAccessDenied(
        user === undefined
          ? "Kafka refused the credentials"
          : `Kafka refused the credentials of user ${user} (wrong user or password)`,
      );
    }
    const refusedGroup = name === "KafkaJSGroupCoordinatorNotFound" && kafka !== undefined &&
      groupRefusals.has(kafka);
    const code = refusedGroup ? "GROUP_AUTHORIZATION_FAILED" : type;
    const resource = code === undefined ? undefined : RESOURCES[code];
    if (resource !== undefined) {
      const asked = what ?? (topic ? `create topic ${topic}` : `use this ${resource}`);
      const who = user === undefined ? "a client without credentials" : `Kafka user ${user}`;
      return new KafkaAccessDenied(`${who} may not ${asked} (${code})`);
    }
  }
  return undefined;
}

/** `e` and everything it wraps: causes, retry wrappers' original errors, aggregates. */
function* causes(e: unknown, depth = 0): Generator<unknown> {
  if (e === null || typeof e !== "object" || depth > 8) return;
  yield e;
  const { cause, originalError, errors } = e as {
    cause?: unknown;
    originalError?: unknown;
    errors?: unknown;
  };
  if (cause !== e) yield* causes(cause, depth + 1);
  if (originalError !== e) yield* causes(originalError, depth + 1);
  if (Array.isArray(errors)) { for (const x of errors) yield* causes(x, depth + 1); }
}

/**
 * The one line a program shows for a Kafka error: the refusal's own text when it is one (see
 * {@link accessDenied}); otherwise kafkajs' message, with a hint when a client without
 * credentials had its connection closed (what a secure broker does to those who do not log in).
 */
export function kafkaErrorText(e: unknown, kafka?: Kafka): string {
  const denied = accessDenied(e, kafka);
  if (denied) return denied.message;
  const text = e instanceof Error ? e.message : String(e);
  const closed = [...causes(e)].some((c) =>
    /ConnectionClosed|closed connection/i.test(`${(c as Error).name} ${(c as Error).message}`)
  );
  return closed && (kafka === undefined || kafkaUser(kafka) === undefined)
    ? `${text} (a secure broker closes connections that do not log in: give --kafka-user and ` +
      "--kafka-password-file, or EV_KAFKA_USER and EV_KAFKA_PASSWORD)"
    : text;
}
