import assert from "node:assert/strict";
import {
  centralHeartbeatFrame,
  centralSilenceMs,
  heartbeatInterval,
  parseCentralToMonitor,
  parseControlMessage,
  parseMonitorToCentral,
  parseRequestsMessage,
  parseTelemetryMessage,
  stamp,
} from "./messages.ts";
import { ValidationError } from "./validate.ts";

const fallback = { id: "kafka-0-12", ts: 1_800_000_000_000 };
const telemetry = stamp({
  type: "TELEMETRY",
  cp_id: "CP-01",
  driver_id: "D1",
  session_id: "s-1",
  consumo_kwh: 1.5,
  importe_eur: 0.6,
  seq: 3,
});

Deno.test("a request in the spec's exact shape is a charge request with the record's id", () => {
  const r = parseRequestsMessage({ driver_id: "D-23", cp_id_solicitado: "CP-01" }, fallback);
  assert.deepEqual(r, {
    type: "CHARGE_REQUEST",
    id: "kafka-0-12",
    ts: fallback.ts,
    driver_id: "D-23",
    cp_id_solicitado: "CP-01",
  });
});

Deno.test("our own request keeps its id and time", () => {
  const sent = stamp({ type: "CHARGE_REQUEST", driver_id: "D1", cp_id_solicitado: "CP-02" });
  assert.deepEqual(parseRequestsMessage(JSON.parse(JSON.stringify(sent)), fallback), sent);
});

Deno.test("every malformed field gets an error naming it", () => {
  const cases: [unknown, RegExp][] = [
    [{ driver_id: "D1" }, /field "cp_id_solicitado": expected an id/],
    [{ driver_id: 7, cp_id_solicitado: "CP-01" }, /field "driver_id": expected an id.*got 7/],
    [{ driver_id: "a b", cp_id_solicitado: "CP-01" }, /field "driver_id"/],
    [{ driver_id: "D1", cp_id_solicitado: "x".repeat(65) }, /field "cp_id_solicitado"/],
    [{ type: "NOPE", driver_id: "D1" }, /unknown type "NOPE" on requests_topic/],
    [{ type: 5 }, /field "type": expected a text/],
    [[1, 2], /expected a JSON object/],
    [null, /expected a JSON object/],
  ];
  for (const [raw, re] of cases) {
    assert.throws(
      () => parseRequestsMessage(raw, fallback),
      (e) => e instanceof ValidationError && re.test(e.message),
      JSON.stringify(raw),
    );
  }
});

Deno.test("telemetry: numbers must be finite and non-negative", () => {
  assert.deepEqual(parseTelemetryMessage(telemetry), telemetry);
  for (
    const [field, value] of [["consumo_kwh", -1], ["importe_eur", "3"], ["seq", 1.5], [
      "ts",
      12,
    ]] as const
  ) {
    assert.throws(
      () => parseTelemetryMessage({ ...telemetry, [field]: value }),
      new RegExp(`field "${field}"`),
    );
  }
  assert.throws(
    () => parseTelemetryMessage({ ...telemetry, consumo_kwh: Infinity }),
    /consumo_kwh/,
  );
});

Deno.test("control messages are told apart by type and validated whole", () => {
  const cmd = stamp({ type: "PARAR", cp_id: "CP-01" });
  assert.deepEqual(parseControlMessage(cmd), cmd);
  assert.throws(() => parseControlMessage({ ...cmd, cp_id: undefined }), /field "cp_id"/);
  assert.throws(() => parseControlMessage({ type: "toString" }), /unknown type "toString"/);
  assert.throws(
    () =>
      parseControlMessage({
        ...stamp({
          type: "DENIED",
          driver_id: "D",
          request_id: "r",
          cp_id: "C",
          reason: "BUSY",
          message: "m",
        }),
        reason: "LOL",
      }),
    /field "reason": expected one of/,
  );
});

Deno.test("monitor frames: REGISTER needs a location and a sane price", () => {
  const reg = {
    type: "REGISTER",
    cp_id: "CP-01",
    location: "C/Italia 5",
    price_eur_kwh: 0.35,
    health: "OK",
  };
  assert.deepEqual(parseMonitorToCentral(reg), reg);
  assert.throws(() => parseMonitorToCentral({ ...reg, location: "" }), /field "location"/);
  assert.throws(
    () => parseMonitorToCentral({ ...reg, price_eur_kwh: 1e9 }),
    /field "price_eur_kwh"/,
  );
  assert.throws(() => parseMonitorToCentral({ ...reg, health: "MEH" }), /field "health"/);
  assert.deepEqual(parseMonitorToCentral({ type: "AVERIA" }), { type: "AVERIA" });
});

Deno.test("Central asks for slower heartbeats only as its network grows", () => {
  assert.equal(heartbeatInterval(1), 1000);
  assert.equal(heartbeatInterval(2500), 1000);
  assert.equal(heartbeatInterval(2501), 2000);
  assert.equal(heartbeatInterval(10_000), 4000);
  assert.equal(centralSilenceMs(1000), 5000);
  assert.equal(centralSilenceMs(4000), 14_000);
  const beat = parseCentralToMonitor({ type: "HEARTBEAT", interval_ms: 4000 });
  assert.deepEqual(beat, { type: "HEARTBEAT", interval_ms: 4000 });
  assert.throws(
    () => parseCentralToMonitor({ type: "HEARTBEAT", interval_ms: 5 }),
    /interval_ms/,
  );
  assert.deepEqual(
    JSON.parse(new TextDecoder().decode(centralHeartbeatFrame(2000).subarray(4))),
    { type: "HEARTBEAT", interval_ms: 2000 },
  );
});

Deno.test("the settlement messages: an engine's end with its time, its acknowledgement, a provisional ticket", () => {
  const end = stamp({
    type: "SUPPLY_END",
    cp_id: "CP-01",
    driver_id: "D1",
    session_id: "s-1",
    consumo_kwh: 0,
    importe_eur: 0,
    reason: "NOT_SUPPLIED",
    ended_at: 1_800_000_000_000,
  });
  assert.deepEqual(parseTelemetryMessage(JSON.parse(JSON.stringify(end))), end);
  const ack = stamp({ type: "SUPPLY_END_ACK", cp_id: "CP-01", session_id: "s-1" });
  assert.deepEqual(parseControlMessage(JSON.parse(JSON.stringify(ack))), ack);
  assert.throws(() => parseControlMessage({ ...ack, session_id: undefined }), ValidationError);
  const ticket = stamp({
    type: "TICKET",
    driver_id: "D1",
    request_id: "r-1",
    session_id: "s-1",
    cp_id: "CP-01",
    price_eur_kwh: 0.5,
    consumo_kwh: 0.1,
    importe_eur: 0.05,
    started_at: 1_800_000_000_000,
    ended_at: 1_800_000_010_000,
    status: "ABORTED",
    reason: "TELEMETRY_TIMEOUT",
    provisional: true,
  });
  assert.deepEqual(parseControlMessage(JSON.parse(JSON.stringify(ticket))), ticket);
  assert.throws(() => parseControlMessage({ ...ticket, provisional: "yes" }), ValidationError);
});
