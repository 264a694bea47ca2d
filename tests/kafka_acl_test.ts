/**
 * Issue 16, "Kafka with credentials": on a secure broker (`deno task broker --secure`) every
 * client logs in with SASL/SCRAM, and ACLs give each role only what its programs do
 * (scripts/kafka/acls.ts). A driver's credentials cannot forge telemetry nor orders, an
 * engine's cannot forge requests nor orders, a stranger gets nothing, and the real programs,
 * each logged in as its own role, still charge end to end.
 */
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { join } from "node:path";
import type { Broker } from "../scripts/broker.ts";
import { grantNetwork } from "../scripts/kafka/secure.ts";
import { networkTopics } from "../scripts/kafka/acls.ts";
import { KafkaAccessDenied } from "../shared/kafka/access.ts";
import { createKafka } from "../shared/kafka/client.ts";
import { startConsumer } from "../shared/kafka/consumer.ts";
import type { KafkaCredentials } from "../shared/kafka/credentials.ts";
import { JsonProducer } from "../shared/kafka/producer.ts";
import { E2E, freePort, secureBroker, ticketOf, withSecureScenario } from "./harness.ts";

/** A network of its own on the shared secure broker: its topics and ACLs, as the admin. */
async function network(): Promise<{ broker: Broker; topics: ReturnType<typeof networkTopics> }> {
  const broker = await secureBroker();
  const prefix = `acl${crypto.randomUUID().slice(0, 8)}_`;
  await grantNetwork(broker.bootstrap, broker.credentials!.admin, prefix);
  return { broker, topics: networkTopics(prefix) };
}

/** Sends one message to `topic` as `login`; resolves with the refusal, if any. */
async function produceAs(
  broker: Broker,
  login: KafkaCredentials | undefined,
  topic: string,
): Promise<Error | undefined> {
  const producer = new JsonProducer(createKafka(broker.bootstrap, "acl-test", login));
  try {
    await producer.connect();
    await producer.send(topic, [{ key: "CP-01", value: { type: "PROBE" } }]);
    return undefined;
  } catch (e) {
    return e as Error;
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

Deno.test(
  "a driver's credentials cannot produce telemetry (nor orders), only requests",
  E2E,
  async () => {
    const { broker, topics } = await network();
    const driver = broker.credentials!.driver;
    assert.equal(await produceAs(broker, driver, topics.requests), undefined, "requests: allowed");
    for (const topic of [topics.telemetry, topics.control]) {
      const refused = await produceAs(broker, driver, topic);
      assert.ok(refused instanceof KafkaAccessDenied, `${topic}: ${refused}`);
      assert.equal(
        refused.message,
        `Kafka user driver may not write to topic ${topic} (TOPIC_AUTHORIZATION_FAILED)`,
      );
    }
  },
);

Deno.test(
  "an engine's credentials cannot produce requests nor orders, only telemetry",
  E2E,
  async () => {
    const { broker, topics } = await network();
    const engine = broker.credentials!.engine;
    assert.equal(
      await produceAs(broker, engine, topics.telemetry),
      undefined,
      "telemetry: allowed",
    );
    for (const topic of [topics.requests, topics.control]) {
      const refused = await produceAs(broker, engine, topic);
      assert.ok(refused instanceof KafkaAccessDenied, `${topic}: ${refused}`);
      assert.match(refused.message, /^Kafka user engine may not write to topic /);
    }
  },
);

Deno.test("a wrong password or no credentials at all are refused", E2E, async () => {
  const { broker, topics } = await network();
  const wrong = { ...broker.credentials!.driver, password: "not-the-password" };
  const refused = await produceAs(broker, wrong, topics.requests);
  assert.ok(refused instanceof KafkaAccessDenied, String(refused));
  assert.match(refused.message, /^Kafka refused the credentials of user driver/);
  assert.ok(await produceAs(broker, undefined, topics.requests), "no credentials: refused");
});

Deno.test(
  "a driver with a wrong password says so in one line and exits 1, password unshown",
  E2E,
  () =>
    withSecureScenario(async (s) => {
      const wrong = "wrong-password-1234";
      const file = join(s.dir, "driver.password");
      await Deno.writeTextFile(file, wrong + "\n");
      // The option wins over EV_KAFKA_PASSWORD, which the scenario sets to the right password.
      const driver = await s.driver("D-1", ["CP-01"], ["--kafka-password-file", file]);
      const status = await driver.exit(60_000);
      assert.equal(status.code, 1);
      const line = await driver.waitFor(/^EV_Driver: error:/);
      assert.match(line, /Kafka refused the credentials of user driver/);
      const all = driver.output.join("\n");
      assert.ok(!all.includes(wrong), "the password given is never printed");
      assert.ok(!/\bat .*\.(js|ts):\d+/.test(all), "no stack trace");
    }),
);

Deno.test(
  "each program on its own Kafka user: a driver charges end to end under the ACLs",
  E2E,
  () =>
    withSecureScenario(async (s) => {
      const centralPort = freePort();
      const central = await s.central(centralPort, join(s.dir, "central.db"), ["--http", "off"]);
      const enginePort = freePort();
      const engine = await s.engine(enginePort, ["--duration", "3"]);
      await s.monitor(enginePort, centralPort, "CP-01");
      await central.waitFor(/STATE CP-01 ACTIVADO/);
      await engine.waitFor(/taking orders for CP-01/);

      const driver = await s.driver("D-7", ["CP-01"]);
      const status = await driver.exit(90_000);
      assert.equal(status.code, 0, "the driver ends its file");
      assert.ok(driver.output.some((l) => /^AUTHORIZED at CP-01/.test(l)), "authorized");
      assert.ok(
        driver.output.some((l) => /^CHARGING CP-01: [\d.]+ kWh/.test(l)),
        "the driver reads the engine's telemetry",
      );
      const ticket = ticketOf(driver.output.find((l) => l.startsWith("TICKET CP-01"))!);
      assert.equal(ticket.reason, "COMPLETED");
      assert.ok(ticket.consumo_kwh > 0);

      // A clean stop releases the network claim: Central trims its claim topic (Delete).
      assert.equal((await central.stop()).code, 0, "Central stops cleanly");
      const printed = s.procs.flatMap((p) => p.output).join("\n");
      assert.doesNotMatch(printed, /AUTHORIZATION_FAILED|may not|closing network claim/);
      for (const [role, login] of Object.entries(s.credentials!)) {
        assert.ok(!printed.includes(login.password), `${role}'s password is never printed`);
      }
    }),
);

Deno.test(
  "a standby Central on the central user takes the network over after a kill -9 (its ids, its ACLs)",
  E2E,
  () =>
    withSecureScenario(async (s) => {
      const a = await s.central(freePort(), join(s.dir, "a.db"), ["--http", "off"]);
      const b = s.spawn(
        "central",
        [String(freePort()), s.bootstrap, join(s.dir, "b.db"), "--http", "off"],
        "central B",
      );
      await b.waitFor(/standby: another Central serves this network/, 30_000);
      a.signal("SIGKILL");
      // Fencing A takes every transactional id of the ring: the prefixed ACL must cover them.
      await b.waitFor(/this Central now serves the network/, 30_000);
      await b.waitFor(/listening for monitors on port/, 30_000);
    }),
);

Deno.test(
  "a consumer group its user may not use stops the start with one clear refusal, not a wait",
  E2E,
  async () => {
    const { broker, topics } = await network();
    const kafka = createKafka(broker.bootstrap, "acl-test", broker.credentials!.engine);
    // The engine's user may read control_topic, but only in groups named ev-engine-*.
    const started = startConsumer({
      kafka,
      groupId: `ev-central-${crypto.randomUUID()}`,
      topics: [topics.control],
      fromBeginning: false,
      parse: (raw) => raw,
      onBatch: () => {},
    });
    const timer = new AbortController();
    const outcome = await Promise.race([
      started.then((c) => c.stop().then(() => "started"), (e: Error) => e),
      delay(30_000, "still waiting after 30 s", { signal: timer.signal }).catch(() => ""),
    ]);
    timer.abort();
    assert.ok(outcome instanceof KafkaAccessDenied, String(outcome));
    assert.match(
      outcome.message,
      /^Kafka user engine may not read .* in consumer group ev-central-/,
    );
  },
);
