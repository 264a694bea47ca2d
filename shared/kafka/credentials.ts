/**
 * A program's Kafka credentials (SASL/SCRAM) for a secure broker (`deno task broker --secure`):
 * from `--kafka-user` and `--kafka-password-file`, or EV_KAFKA_USER and EV_KAFKA_PASSWORD;
 * an option wins over its variable. The password comes from a file or the environment, never
 * the command line, where every user of the machine could read it in `ps`; and it is never
 * printed: {@link credentialsText} names the user only.
 *
 * @module
 */
import { UsageError } from "../process/cli.ts";

/** The SASL mechanisms the programs speak: the secure broker's is SCRAM-SHA-256. */
export type KafkaMechanism = "scram-sha-256" | "scram-sha-512";

/** A Kafka user and its password. */
export interface KafkaCredentials {
  mechanism: KafkaMechanism;
  username: string;
  password: string;
}

/** The two options every Kafka program takes, for its spec (shared/process/cli.ts). */
export const CREDENTIAL_OPTIONS = {
  "kafka-user": {
    type: "string" as const,
    arg: "<name>",
    help: "Kafka user (SASL/SCRAM) on a secure broker (or EV_KAFKA_USER)",
  },
  "kafka-password-file": {
    type: "string" as const,
    arg: "<file>",
    help: "file holding that user's password (or EV_KAFKA_PASSWORD)",
  },
};

/** The values of {@link CREDENTIAL_OPTIONS} as parsed. */
export interface CredentialOptionValues {
  "kafka-user"?: string;
  "kafka-password-file"?: string;
}

/** Where {@link kafkaCredentials} looks besides the options (injected by the tests). */
export interface CredentialSources {
  env: (name: string) => string | undefined;
  readFile: (path: string) => string;
}

const MECHANISMS: readonly KafkaMechanism[] = ["scram-sha-256", "scram-sha-512"];

/**
 * The credentials the options and the environment give, or undefined for none (a plaintext
 * broker). Throws {@link UsageError} for half of a pair, an unreadable or empty password file,
 * or an unknown EV_KAFKA_MECHANISM (default SCRAM-SHA-256).
 */
export function kafkaCredentials(
  options: CredentialOptionValues,
  sources: CredentialSources = { env: readEnv, readFile: (p) => Deno.readTextFileSync(p) },
): KafkaCredentials | undefined {
  const username = options["kafka-user"] ?? sources.env("EV_KAFKA_USER") ?? undefined;
  const file = options["kafka-password-file"];
  const password = file !== undefined
    ? passwordFromFile(file, sources.readFile)
    : sources.env("EV_KAFKA_PASSWORD");
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || username === "") {
    throw new UsageError("a Kafka password needs its user: --kafka-user or EV_KAFKA_USER");
  }
  if (password === undefined || password === "") {
    throw new UsageError(
      `Kafka user "${username}" needs a password: --kafka-password-file or EV_KAFKA_PASSWORD`,
    );
  }
  const named = (sources.env("EV_KAFKA_MECHANISM") ?? "scram-sha-256").toLowerCase();
  const mechanism = MECHANISMS.find((m) => m === named);
  if (!mechanism) {
    throw new UsageError(
      `EV_KAFKA_MECHANISM must be SCRAM-SHA-256 or SCRAM-SHA-512, got "${named}"`,
    );
  }
  return { mechanism, username, password };
}

/** "user X (SCRAM-SHA-256)" or "no credentials": for logs, never with the password. */
export function credentialsText(c: KafkaCredentials | undefined): string {
  return c ? `user ${c.username} (${c.mechanism.toUpperCase()})` : "no credentials";
}

/** The file's one line: an editor's final newline is not part of the password. */
function passwordFromFile(path: string, readFile: (path: string) => string): string {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new UsageError(`cannot read --kafka-password-file "${path}": ${why}`);
  }
  const password = text.replace(/\r?\n$/, "");
  if (password === "" || /[\r\n]/.test(password)) {
    throw new UsageError(`--kafka-password-file "${path}" must hold the password on one line`);
  }
  return password;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
