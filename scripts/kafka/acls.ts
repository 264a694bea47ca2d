/**
 * Who may do what on a secure broker (`deno task broker --secure`): one Kafka user per role,
 * shared by every program of that role (all engines are `engine`, all drivers `driver`), and
 * the ACLs of each network (topic prefix) in one table, read by the broker script and by the
 * tests that check the programs work under it.
 *
 * Topics are granted by exact name; consumer groups and Central's transactional ids by prefix,
 * because engines and drivers make one group per CP, per driver and per run.
 *
 * @module
 */
import { networkClaimNames, topicNames, type Topics } from "../../shared/kafka/topics.ts";

/** The Kafka users of a secure broker; `admin` is its super user (ACLs do not apply). */
export const ROLES = ["admin", "central", "engine", "driver"] as const;

/** One of {@link ROLES}. */
export type Role = typeof ROLES[number];

/** A Kafka operation an ACL allows. */
export type Operation = "Read" | "Write" | "Describe" | "Delete";

/** One allow-ACL: `role` may do `operations` on the resource(s) `name` names. */
export interface Grant {
  role: Exclude<Role, "admin">;
  resource: "topic" | "group" | "transactional-id";
  /** The exact name, or with `prefixed` every name that starts with it. */
  name: string;
  prefixed: boolean;
  operations: Operation[];
}

/**
 * Where the programs' consumer groups begin: Central's in central/kafka_intake.ts
 * (`ev-central-requests`, `ev-central-telemetry`), an engine's in cp_engine/main.ts
 * (`ev-engine-<cp>`), a driver's in driver/main.ts (`ev-driver-<id>` and one per run).
 */
export const GROUP_PREFIXES: Readonly<Record<Exclude<Role, "admin">, string>> = {
  central: "ev-central-",
  engine: "ev-engine-",
  driver: "ev-driver-",
};

/** The topics of the network whose topic prefix is `prefix` (EV_TOPIC_PREFIX). */
export function networkTopics(prefix: string): Topics & { claim: string } {
  const topics = topicNames((name) => (name === "EV_TOPIC_PREFIX" ? prefix : undefined));
  return { ...topics, claim: networkClaimNames(topics).topic };
}

/**
 * The ACLs of the network whose topic prefix is `prefix`:
 * - central reads requests and telemetry, writes control and its claim topic (and deletes the
 *   claim's records when it lets the network go), in transactions of its own ids;
 * - an engine writes telemetry, reads control;
 * - a driver writes requests, reads control (its answers and tickets) and telemetry (its
 *   charge, live).
 * Describe goes with every topic: a program checks that its topics exist before using them.
 */
export function networkGrants(prefix: string): Grant[] {
  const t = networkTopics(prefix);
  const topic = (role: Grant["role"], name: string, ...operations: Operation[]): Grant => ({
    role,
    resource: "topic",
    name,
    prefixed: false,
    operations: [...operations, "Describe"],
  });
  const groups = (role: Grant["role"]): Grant => ({
    role,
    resource: "group",
    name: GROUP_PREFIXES[role],
    prefixed: true,
    operations: ["Read", "Describe"],
  });
  return [
    topic("central", t.requests, "Read"),
    topic("central", t.telemetry, "Read"),
    topic("central", t.control, "Write"),
    topic("central", t.claim, "Write", "Delete"),
    groups("central"),
    {
      role: "central",
      resource: "transactional-id",
      // The ring's ids: this one, then `.1`, `.2`… (TransactionalProducer).
      name: networkClaimNames(t).transactionalId,
      prefixed: true,
      operations: ["Write", "Describe"],
    },
    topic("engine", t.telemetry, "Write"),
    topic("engine", t.control, "Read"),
    groups("engine"),
    topic("driver", t.requests, "Write"),
    topic("driver", t.control, "Read"),
    topic("driver", t.telemetry, "Read"),
    groups("driver"),
  ];
}

/** Whether `grants` let `role` do `operation` on a resource; Kafka's rule, for the tests. */
export function allowed(
  grants: readonly Grant[],
  role: Role,
  resource: Grant["resource"],
  name: string,
  operation: Operation,
): boolean {
  if (role === "admin") return true;
  return grants.some((g) =>
    g.role === role && g.resource === resource &&
    (g.prefixed ? name.startsWith(g.name) : name === g.name) &&
    // Kafka: Read, Write and Delete each imply Describe.
    (g.operations.includes(operation) || (operation === "Describe" && g.operations.length > 0))
  );
}
