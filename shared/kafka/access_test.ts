import assert from "node:assert/strict";
import { createKafka } from "./client.ts";
import { accessDenied, KafkaAccessDenied, noteGroupRefused } from "./access.ts";

const kafka = createKafka("127.0.0.1:9", "t", {
  mechanism: "scram-sha-256",
  username: "driver",
  password: "never-shown",
});
// kafkajs' errors as it builds them (its typings lack the constructors' arguments).
const error = (fields: Record<string, unknown>) => Object.assign(new Error("kafkajs"), fields);
const protocol = (type: string) => error({ name: "KafkaJSProtocolError", type });

Deno.test("a refused login names the user, not the password", () => {
  const e = error({
    name: "KafkaJSNumberOfRetriesExceeded",
    cause: error({ name: "KafkaJSSASLAuthenticationError" }),
  });
  const denied = accessDenied(e, kafka);
  assert.ok(denied instanceof KafkaAccessDenied);
  assert.match(denied.message, /Kafka refused the credentials of user driver/);
  assert.doesNotMatch(denied.message, /never-shown/);
});

Deno.test("an ACL refusal says who may not do what", () => {
  const denied = accessDenied(
    protocol("TOPIC_AUTHORIZATION_FAILED"),
    kafka,
    "write to topic telemetry_topic",
  );
  assert.equal(
    denied?.message,
    "Kafka user driver may not write to topic telemetry_topic (TOPIC_AUTHORIZATION_FAILED)",
  );
  const group = accessDenied(protocol("GROUP_AUTHORIZATION_FAILED"), undefined);
  assert.match(group!.message, /a client without credentials may not use this consumer group/);
  const create = error({ type: "TOPIC_AUTHORIZATION_FAILED", topic: "a_requests_topic" });
  const aggregate = error({ name: "KafkaJSAggregateError", errors: [create] });
  assert.match(accessDenied(aggregate, kafka)!.message, /may not create topic a_requests_topic/);
});

Deno.test("other errors are not refusals", () => {
  assert.equal(accessDenied(new Error("Connection timeout"), kafka), undefined);
  assert.equal(accessDenied(protocol("NOT_LEADER_OR_FOLLOWER"), kafka), undefined);
  assert.equal(accessDenied("text", kafka), undefined);
});

Deno.test("a coordinator not found is a refused group only once the broker said so", () => {
  const other = createKafka("127.0.0.1:9", "t", {
    mechanism: "scram-sha-256",
    username: "engine",
    password: "x",
  });
  const notFound = error({ name: "KafkaJSGroupCoordinatorNotFound" });
  assert.equal(accessDenied(notFound, other, "read c in consumer group g"), undefined);
  noteGroupRefused(other);
  assert.equal(
    accessDenied(notFound, other, "read c in consumer group g")?.message,
    "Kafka user engine may not read c in consumer group g (GROUP_AUTHORIZATION_FAILED)",
  );
});
