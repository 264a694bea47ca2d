/**
 * What makes a local broker secure (`deno task broker --secure`): a SASL_PLAINTEXT listener
 * for clients with SCRAM-SHA-256, Kafka's StandardAuthorizer denying whatever no ACL allows,
 * one user per role (scripts/kafka/acls.ts), and each network's topics and ACLs created by the
 * admin user before any program starts.
 *
 * Passwords are made once per data folder, from the operating system's random source, and
 * kept in `<data>/credentials/<role>.password` (folder 0700, files 0600), which is what the
 * programs' `--kafka-password-file` reads; EV_KAFKA_<ROLE>_PASSWORD gives one instead, when
 * the folder is formatted. They are never printed. KRaft keeps SCRAM users in its metadata
 * log, where only the storage format (or a Java admin client) puts them: kafkajs cannot, so
 * the users exist from the format on and a data folder stays secure or plaintext for life.
 *
 * The controller listener stays on loopback, with SASL/PLAIN for the admin only: the broker
 * half of this one JVM logs in there as admin, so no anonymous principal is a super user.
 *
 * @module
 */
import { join } from "node:path";
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type Kafka,
  ResourcePatternTypes,
} from "kafkajs";
import { createKafka, ensureTopics } from "../../shared/kafka/client.ts";
import type { KafkaCredentials } from "../../shared/kafka/credentials.ts";
import { type Grant, networkGrants, networkTopics, type Role, ROLES } from "./acls.ts";

/** The mechanism of the client listener. */
export const SCRAM = "SCRAM-SHA-256";

/** Every role's credentials on one secure broker. */
export type RoleCredentials = Record<Role, KafkaCredentials>;

/** What may go in a password: nothing that needs quoting in JAAS or in `--add-scram`. */
const PASSWORD_CHARS = /^[A-Za-z0-9._~-]{12,}$/;

/** The folder of the password files of the data folder `dataDir`. */
export function credentialsDir(dataDir: string): string {
  return join(dataDir, "credentials");
}

/**
 * Every role's password: read from the data folder's files, or (before its first format,
 * `formatted` false) taken from EV_KAFKA_<ROLE>_PASSWORD or made at random, and written there,
 * readable by this user only.
 */
export async function rolePasswords(
  dataDir: string,
  formatted: boolean,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Promise<RoleCredentials> {
  const dir = credentialsDir(dataDir);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700).catch(() => {}); // Windows has no modes
  const out = {} as RoleCredentials;
  for (const role of ROLES) {
    const file = join(dir, `${role}.password`);
    const variable = `EV_KAFKA_${role.toUpperCase()}_PASSWORD`;
    const given = env(variable);
    let password: string;
    try {
      password = (await Deno.readTextFile(file)).trim();
      if (given !== undefined && given !== password) {
        throw new Error(
          `${variable} differs from the password this data folder was formatted with ` +
            `(${file}); SCRAM users are fixed at format time: use another --data`,
        );
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      if (formatted) {
        throw new Error(
          `${file} is missing: the users of ${dataDir} were made when it was formatted, and a ` +
            "new password would not match; start a new --data",
        );
      }
      password = given ?? randomPassword();
      if (!PASSWORD_CHARS.test(password)) {
        throw new Error(`${variable} must be 12 or more of A-Z a-z 0-9 . _ ~ -`);
      }
      await Deno.writeTextFile(file, password + "\n", { mode: 0o600 });
    }
    out[role] = { mechanism: "scram-sha-256", username: role, password };
  }
  return out;
}

function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `--add-scram` arguments of the storage format: one SCRAM user per role. */
export function scramFormatArgs(credentials: RoleCredentials): string[] {
  return ROLES.flatMap((role) => [
    "--add-scram",
    `${SCRAM}=[name=${role},password=${credentials[role].password}]`,
  ]);
}

/** Where a secure broker listens. */
export interface SecureListeners {
  listenHost: string;
  port: number;
  advertised: string;
  controllerPort: number;
}

/**
 * The listener and authorization lines of a secure broker's server.properties (which then
 * holds the admin's password: the broker logs in as admin to its own controller and, for
 * transaction markers, to itself). The controller is on loopback: one node, one machine.
 */
export function secureProperties(l: SecureListeners, admin: KafkaCredentials): string[] {
  const pw = admin.password;
  return [
    `controller.quorum.voters=1@127.0.0.1:${l.controllerPort}`,
    `listeners=CLIENT://${l.listenHost}:${l.port},CONTROLLER://127.0.0.1:${l.controllerPort}`,
    `advertised.listeners=CLIENT://${l.advertised}:${l.port}`,
    "controller.listener.names=CONTROLLER",
    "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
    "inter.broker.listener.name=CLIENT",
    `sasl.enabled.mechanisms=${SCRAM}`,
    `sasl.mechanism.inter.broker.protocol=${SCRAM}`,
    `listener.name.client.sasl.enabled.mechanisms=${SCRAM}`,
    `listener.name.client.${SCRAM.toLowerCase()}.sasl.jaas.config=` +
    `org.apache.kafka.common.security.scram.ScramLoginModule required ` +
    `username="admin" password="${pw}";`,
    "sasl.mechanism.controller.protocol=PLAIN",
    "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
    "listener.name.controller.plain.sasl.jaas.config=" +
    "org.apache.kafka.common.security.plain.PlainLoginModule required " +
    `username="admin" password="${pw}" user_admin="${pw}";`,
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "allow.everyone.if.no.acl.found=false",
    "super.users=User:admin",
    // Only the admin creates topics (grantNetwork): a typo'd topic name is an error, not a
    // new topic nobody reads.
    "auto.create.topics.enable=false",
  ];
}

const OPERATIONS: Record<Grant["operations"][number], AclOperationTypes> = {
  Read: AclOperationTypes.READ,
  Write: AclOperationTypes.WRITE,
  Describe: AclOperationTypes.DESCRIBE,
  Delete: AclOperationTypes.DELETE,
};

const RESOURCES: Record<Grant["resource"], AclResourceTypes> = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  "transactional-id": AclResourceTypes.TRANSACTIONAL_ID,
};

/**
 * Creates, as the admin, the topics of the network whose topic prefix is `prefix` (the
 * claim topic with one partition, as Central makes it) and its ACLs (scripts/kafka/acls.ts).
 * Both are idempotent: a broker started again, or a network granted twice, changes nothing.
 */
export async function grantNetwork(
  bootstrap: string,
  admin: KafkaCredentials,
  prefix: string,
): Promise<void> {
  const kafka: Kafka = createKafka(bootstrap, "ev-broker-admin", admin);
  const t = networkTopics(prefix);
  await ensureTopics(kafka, [t.requests, t.telemetry, t.control]);
  await ensureTopics(kafka, [t.claim], 1);
  const acl = networkGrants(prefix).flatMap((g) =>
    g.operations.map((operation) => ({
      resourceType: RESOURCES[g.resource],
      resourceName: g.name,
      resourcePatternType: g.prefixed
        ? ResourcePatternTypes.PREFIXED
        : ResourcePatternTypes.LITERAL,
      principal: `User:${g.role}`,
      host: "*",
      operation: OPERATIONS[operation],
      permissionType: AclPermissionTypes.ALLOW,
    }))
  );
  const client = kafka.admin();
  await client.connect();
  try {
    await client.createAcls({ acl });
  } finally {
    await client.disconnect();
  }
}
