import assert from "node:assert/strict";
import { groupFor, networkClaimNames, SPEC_TOPICS, topicNames } from "./topics.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("topic names: the spec's by default, a prefix for all three, one override", () => {
  assert.deepEqual(topicNames(env({})), SPEC_TOPICS);
  assert.deepEqual(topicNames(env({ EV_TOPIC_PREFIX: "a_" })), {
    requests: "a_requests_topic",
    telemetry: "a_telemetry_topic",
    control: "a_control_topic",
  });
  assert.deepEqual(topicNames(env({ EV_REQUESTS_TOPIC: "r" })).requests, "r");
});

Deno.test("consumer groups: bare on the spec's topics, one per network otherwise", () => {
  assert.deepEqual(groupFor("ev-central-requests", "requests_topic"), "ev-central-requests");
  const a = groupFor("ev-central-requests", topicNames(env({ EV_TOPIC_PREFIX: "a_" })).requests);
  const b = groupFor("ev-central-requests", topicNames(env({ EV_TOPIC_PREFIX: "b_" })).requests);
  assert.deepEqual(a, "ev-central-requests.a_requests_topic");
  assert.notEqual(a, b);
});

Deno.test("network claim: one per control topic, named after the prefix", () => {
  assert.deepEqual(networkClaimNames(topicNames(env({}))), {
    topic: "central_claim",
    transactionalId: "ev-central.control_topic",
  });
  assert.deepEqual(networkClaimNames(topicNames(env({ EV_TOPIC_PREFIX: "a_" }))), {
    topic: "a_central_claim",
    transactionalId: "ev-central.a_control_topic",
  });
  assert.equal(
    networkClaimNames(topicNames(env({ EV_CONTROL_TOPIC: "c" }))).topic,
    "c.central_claim",
  );
});
