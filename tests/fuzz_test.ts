/**
 * Issue 7: a seeded fuzz run. Over a thousand malformed frames at Central's TCP port, hundreds
 * at the engine's health port, and over a thousand malformed Kafka messages on the three
 * topics; then every process must still be up, the happy path must still work, and the
 * database must hold exactly what that happy path wrote. EV_FUZZ_SEED replays a run.
 */
import assert from "node:assert/strict";
import {
  parseControlMessage,
  parseMonitorToCentral,
  parseMonitorToEngine,
  parseRequestsMessage,
  parseTelemetryMessage,
} from "../shared/protocol/messages.ts";
import { E2E, query, withScenario } from "./harness.ts";
import { frameOf, invalidMessages, noise, prng } from "./fuzz.ts";
import { RawClient } from "./raw_tcp.ts";

const SEED = Number(Deno.env.get("EV_FUZZ_SEED") ?? 20261123);

const rejects = (parse: (raw: unknown) => unknown) => (raw: unknown) => {
  try {
    parse(raw);
    return false;
  } catch {
    return true;
  }
};

const now = Date.now();
const id = () => crypto.randomUUID();
const TEMPLATES = {
  monitor: [
    { type: "REGISTER", cp_id: "CP-50", location: "Fuzz St 1", price_eur_kwh: 0.3, health: "OK" },
    { type: "AVERIA" },
    { type: "HEARTBEAT" },
    { type: "SUMINISTRAR", duration_s: 5 },
  ],
  engine: [{ type: "HEALTH_CHECK", cp_id: "CP-01", seq: 1 }],
  requests: [
    { driver_id: "F1", cp_id_solicitado: "CP-01" },
    { type: "CANCEL_REQUEST", id: id(), ts: now, driver_id: "F1", request_id: "r1" },
  ],
  telemetry: [
    {
      type: "TELEMETRY",
      id: id(),
      ts: now,
      cp_id: "CP-01",
      driver_id: "F1",
      session_id: "s1",
      consumo_kwh: 1,
      importe_eur: 0.3,
      seq: 1,
    },
  ],
  control: [
    { type: "PARAR", id: id(), ts: now, cp_id: "CP-01" },
    {
      type: "START_SUPPLY",
      id: id(),
      ts: now,
      cp_id: "CP-01",
      driver_id: "F1",
      session_id: "s1",
      request_id: "r1",
      price_eur_kwh: 0.3,
    },
  ],
};

async function fuzzTcp(rng: () => number, port: number, frames: string[]): Promise<number> {
  let sent = 0;
  // Nine frames a link (ten protocol errors close it), twenty links at a time, and now and
  // then raw noise instead of a frame.
  const links: string[][] = [];
  for (let i = 0; i < frames.length; i += 9) links.push(frames.slice(i, i + 9));
  for (let i = 0; i < links.length; i += 20) {
    await Promise.all(
      links.slice(i, i + 20).map(async (batch) => {
        const c = await RawClient.connect(port);
        for (const text of batch) {
          const bytes = rng() < 0.05 ? noise(rng) : frameOf(rng, text);
          if (!(await c.send(bytes))) break;
          sent++;
        }
        c.close();
      }),
    );
  }
  return sent;
}

Deno.test(
  `fuzz (seed ${SEED}): malformed frames and Kafka messages change nothing`,
  E2E,
  () =>
    withScenario(async (s) => {
      console.log(`fuzz seed ${SEED} (set EV_FUZZ_SEED to replay)`);
      const rng = prng(SEED);
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "3"] });
      const cp = net.cps["CP-01"];

      const centralFrames = invalidMessages(
        rng,
        1200,
        TEMPLATES.monitor,
        rejects(parseMonitorToCentral),
      );
      const engineFrames = invalidMessages(
        rng,
        400,
        TEMPLATES.engine,
        rejects(parseMonitorToEngine),
      );
      const sentCentral = await fuzzTcp(rng, net.centralPort, centralFrames);
      const sentEngine = await fuzzTcp(rng, cp.enginePort, engineFrames);
      assert.ok(sentCentral >= 1000, `at least 1000 frames reached Central (${sentCentral})`);

      const fallback = { id: "fuzz", ts: now };
      const kafkaSets = [
        [
          "requests_topic",
          invalidMessages(
            rng,
            400,
            TEMPLATES.requests,
            rejects((r) => parseRequestsMessage(r, fallback)),
          ),
        ],
        [
          "telemetry_topic",
          invalidMessages(rng, 400, TEMPLATES.telemetry, rejects(parseTelemetryMessage)),
        ],
        [
          "control_topic",
          invalidMessages(rng, 400, TEMPLATES.control, rejects(parseControlMessage)),
        ],
      ] as const;
      for (const [topic, messages] of kafkaSets) {
        await s.produceRaw(topic, messages.map((value) => ({ key: "CP-01", value })), "fuzzer");
      }
      console.log(
        `sent ${sentCentral} frames to Central, ${sentEngine} to the engine, 1200 Kafka messages`,
      );

      // Central has read them all once a request sent after them is answered.
      const driver = await s.driver("D1", ["CP-01"]);
      const ticket = await driver.waitFor(/^TICKET CP-01: ENDED \(COMPLETED\)/);
      assert.equal((await driver.exit()).code, 0);

      for (const p of [net.central, cp.engine, cp.monitor]) {
        assert.ok(p.running, `${p.name} is still up`);
      }
      await net.waitState("CP-01", "ACTIVADO");
      const sessions = query(
        net.db,
        (d) => d.prepare("SELECT driver_id, status FROM sessions").all(),
      );
      assert.deepEqual(sessions.map((r) => [r.driver_id, r.status]), [["D1", "ENDED"]]);
      const cps = query(net.db, (d) => d.prepare("SELECT cp_id FROM charging_points").all());
      assert.deepEqual(cps.map((r) => r.cp_id), ["CP-01"], "no CP was enrolled by the fuzzer");
      const kinds = query(net.db, (d) => d.prepare("SELECT kind FROM events ORDER BY id").all())
        .map((r) => r.kind);
      assert.deepEqual(kinds, ["registered", "authorized", "session_ended"]);
      assert.match(ticket, /0\.04\d kWh/);
    }),
);
