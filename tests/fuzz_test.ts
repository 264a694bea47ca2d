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
import { KEY_HEADER, MAC_HEADER } from "../shared/protocol/record_mac.ts";
import { countersGrown, E2E, eventually, query, signedAs, withScenario } from "./harness.ts";
import { type Random as Rng } from "../scripts/chaos/prng.ts";
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

type Row = Record<string, unknown>;

/** Headers that are not a valid code for a record whose valid ones are `real`. */
function badCode(rng: Rng, real: Record<string, string>): Record<string, string> {
  const hex = (n: number) =>
    Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(rng() * 16)]).join("");
  const variants: (() => Record<string, string>)[] = [
    () => ({}),
    () => ({ [KEY_HEADER]: real[KEY_HEADER] }),
    () => ({ [MAC_HEADER]: real[MAC_HEADER] }),
    () => ({ ...real, [MAC_HEADER]: hex(64) }),
    () => ({ ...real, [MAC_HEADER]: real[MAC_HEADER].slice(0, 32 + Math.floor(rng() * 31)) }),
    () => ({ ...real, [MAC_HEADER]: real[MAC_HEADER].toUpperCase() }),
    () => ({ ...real, [MAC_HEADER]: real[MAC_HEADER] + hex(2) }),
    () => ({ ...real, [KEY_HEADER]: String(Number(real[KEY_HEADER]) + 1 + Math.floor(rng() * 9)) }),
    () => ({ ...real, [KEY_HEADER]: "x" + new TextDecoder().decode(noise(rng, 12)) }),
    () => ({ [KEY_HEADER]: hex(3), [MAC_HEADER]: hex(64) }),
  ];
  return variants[Math.floor(rng() * variants.length)]();
}

Deno.test(
  "issue 16: signed messages fuzzed — a valid code on garbage, bad codes on real bodies, and " +
    "records replayed from an earlier session or an old key change nothing",
  E2E,
  () =>
    withScenario(async (s) => {
      const rng = prng(SEED + 16);
      const net = await s.network(["CP-01"], { engineArgs: ["--duration", "6"] });
      const cp = net.cps["CP-01"];
      const telemetry = await s.watch("telemetry_topic");
      const sessions = () =>
        query(
          net.db,
          (d) => d.prepare("SELECT * FROM sessions ORDER BY started_at").all(),
        ) as Row[];
      try {
        // Session 1 to its end: its signed records are what a replayer holds.
        const d1 = await s.driver("D1", ["CP-01"]);
        await d1.waitFor(/^TICKET CP-01: ENDED \(COMPLETED\)/);
        const [first] = sessions();
        const ofSession = (id: unknown) =>
          telemetry.records.filter((r) => r.text.includes(`"${id}"`));
        const replays = await eventually("session 1's end on the topic", () => {
          const r = ofSession(first.session_id);
          return r.some((x) => x.text.includes('"SUPPLY_END"')) && r;
        });

        // Session 2 running: the target.
        const d2 = await s.driver("D2", ["CP-01"]);
        await d2.waitFor(/^CHARGING CP-01: 0\.0[1-9]/);
        const second = sessions()[1];
        const live = await eventually(
          "a reading of session 2",
          () => ofSession(second.session_id).find((r) => r.text.includes('"TELEMETRY"')),
        );
        const before = await net.metrics();

        // 1. A valid code on garbage: not a message, whoever signed it.
        const garbage = invalidMessages(
          rng,
          60,
          TEMPLATES.telemetry,
          rejects(parseTelemetryMessage),
        );
        // 2. Real bodies that would move session 2's meter, with codes that are not valid.
        const body = JSON.parse(live.text);
        const forged = await Promise.all(Array.from({ length: 60 }, async (_, i) => {
          const value = JSON.stringify({
            ...body,
            id: crypto.randomUUID(),
            seq: body.seq + 1 + i,
            consumo_kwh: body.consumo_kwh + 0.001 * (i + 1),
            importe_eur: body.importe_eur,
          });
          return { value, headers: badCode(rng, await signedAs(net.db, "CP-01", value)) };
        }));
        await s.produceRaw("telemetry_topic", [
          ...await Promise.all(garbage.map(async (value) => ({
            key: "CP-01",
            value,
            headers: await signedAs(net.db, "CP-01", value),
          }))),
          ...forged.map((f) => ({ key: "CP-01", ...f })),
          // 3. Session 1's records again, exactly as the engine signed them.
          ...replays.map((r) => ({ key: r.key, value: r.text, headers: r.headers })),
        ], "fuzzer");
        const counted = await countersGrown(net, before, {
          invalid: garbage.length,
          unauthenticated: forged.length,
          ignored: replays.length,
        });
        assert.equal(counted.invalid, garbage.length, "garbage is garbage, signed or not");
        assert.equal(counted.unauthenticated, forged.length, "no bad code passed");

        // Session 2 ends as its engine says; session 1 is as it was.
        await d2.waitFor(/^TICKET CP-01: ENDED \(COMPLETED\)/);
        const end2 = await eventually(
          "session 2's end",
          () =>
            ofSession(second.session_id).map((r) => JSON.parse(r.text)).find((m) =>
              m.type === "SUPPLY_END"
            ),
        );
        const [one, two] = sessions();
        assert.deepEqual({ ...one }, { ...first, updated_at: one.updated_at });
        assert.deepEqual(
          [two.status, two.end_reason, two.consumo_kwh, two.importe_eur],
          ["ENDED", "COMPLETED", end2.consumo_kwh, end2.importe_eur],
        );

        // 4. Two registrations later (the monitor restarted twice) the key of sessions 1 and 2
        // is no longer valid, and the engine signs with the new one.
        for (let i = 0; i < 2; i++) {
          await cp.monitor.stop();
          await net.waitState("CP-01", "DESCONECTADO");
          cp.monitor = await s.monitor(cp.enginePort, net.centralPort, "CP-01");
          await net.waitState("CP-01", "ACTIVADO");
        }
        const oldEnd = ofSession(second.session_id).find((r) => r.text.includes('"SUPPLY_END"'))!;
        assert.equal(oldEnd.headers[KEY_HEADER], "1");
        const mark = net.central.mark();
        await s.produceRaw("telemetry_topic", [{
          key: "CP-01",
          value: oldEnd.text,
          headers: oldEnd.headers,
        }]);
        await net.central.waitFor(
          /without a valid authentication code \(last: CP-01 .*: key 1 not valid\)/,
          30_000,
          mark,
        );
        const d3 = await s.driver("D3", ["CP-01"]);
        await d3.waitFor(/^TICKET CP-01: ENDED \(COMPLETED\)/);
        const third = sessions()[2];
        assert.deepEqual([third.status, third.driver_id], ["ENDED", "D3"]);
        const keys = new Set(ofSession(third.session_id).map((r) => r.headers[KEY_HEADER]));
        assert.deepEqual([...keys], ["3"], "signed with the key of the last registration");
        for (const p of [net.central, cp.engine, cp.monitor]) {
          assert.ok(p.running, `${p.name} is up`);
        }
      } finally {
        await telemetry.stop();
      }
    }),
);
