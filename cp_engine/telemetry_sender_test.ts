import assert from "node:assert/strict";
import type { TelemetryMessage } from "../shared/protocol/messages.ts";
import { eventually } from "../shared/process/eventually.ts";
import { macKey, macRefusal, newCpKey } from "../shared/protocol/record_mac.ts";
import { TelemetrySender } from "./telemetry_sender.ts";

const KEY = macKey(newCpKey(1));
const withKey = () => KEY;

// Fixed ids, so that the same reading built twice is equal.
const reading = (seq: number): TelemetryMessage => ({
  type: "TELEMETRY",
  id: `reading-${seq}`,
  ts: 0,
  cp_id: "CP-01",
  driver_id: "D1",
  session_id: "s1",
  seq,
  consumo_kwh: seq / 100,
  importe_eur: seq / 250,
});

const end = (session: string): TelemetryMessage => ({
  type: "SUPPLY_END",
  id: `end-${session}`,
  ts: 0,
  cp_id: "CP-01",
  driver_id: "D1",
  session_id: session,
  consumo_kwh: 0.03,
  importe_eur: 0.012,
  reason: "COMPLETED",
});

/** A producer whose every send waits until the test settles it, one way or the other. */
function fakeProducer() {
  const calls: {
    topic: string;
    keys: string[];
    values: unknown[];
    records: { value: string; headers: Record<string, string> }[];
    done: ReturnType<typeof Promise.withResolvers<void>>;
  }[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  return {
    calls,
    get mostInFlight() {
      return mostInFlight;
    },
    async sendRaw(
      topic: string,
      messages: { key: string; value: string; headers: Record<string, string> }[],
    ): Promise<void> {
      const done = Promise.withResolvers<void>();
      calls.push({
        topic,
        keys: messages.map((m) => m.key),
        values: messages.map((m) => JSON.parse(m.value)),
        records: messages,
        done,
      });
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      try {
        await done.promise;
      } finally {
        inFlight--;
      }
    },
  };
}

function fakeLog() {
  const lines: string[] = [];
  return {
    lines,
    info: (m: string) => lines.push(`info ${m}`),
    error: (m: string) => lines.push(`error ${m}`),
  };
}

Deno.test("telemetry: batches go out one at a time, in order, keyed by CP", async () => {
  const producer = fakeProducer();
  const sender = new TelemetrySender(producer, "telemetry", fakeLog(), withKey);
  sender.send([reading(1)]);
  sender.send([reading(2), end("s1")]);
  await eventually("the first send", () => producer.calls.length === 1, 2000);
  producer.calls[0].done.resolve();
  await eventually("the second send", () => producer.calls.length === 2, 2000);
  producer.calls[1].done.resolve();
  await sender.idle();
  assert.equal(producer.mostInFlight, 1);
  assert.deepEqual(producer.calls.map((c) => c.topic), ["telemetry", "telemetry"]);
  assert.deepEqual(producer.calls.map((c) => c.keys), [["CP-01"], ["CP-01", "CP-01"]]);
  assert.deepEqual(producer.calls.map((c) => c.values), [[reading(1)], [reading(2), end("s1")]]);
});

Deno.test("telemetry: nothing to send and nothing kept sends nothing", async () => {
  const producer = fakeProducer();
  const sender = new TelemetrySender(producer, "telemetry", fakeLog(), withKey);
  sender.send([]);
  await sender.idle();
  assert.equal(producer.calls.length, 0);
});

Deno.test("telemetry: a refused batch drops its readings but its end goes out first next", async () => {
  const producer = fakeProducer();
  const sender = new TelemetrySender(producer, "telemetry", fakeLog(), withKey);
  sender.send([reading(3), end("s1")]);
  await eventually("the first send", () => producer.calls.length === 1, 2000);
  producer.calls[0].done.reject(new Error("broker gone"));
  await sender.idle();
  sender.send([reading(1)]);
  await eventually("the second send", () => producer.calls.length === 2, 2000);
  assert.deepEqual(producer.calls[1].values, [end("s1"), reading(1)]);
  producer.calls[1].done.resolve();
  await sender.idle();
  sender.send([]);
  await sender.idle();
  assert.equal(producer.calls.length, 2, "the end was taken: nothing is sent again");
});

Deno.test("telemetry: a kept end is retried even when there is nothing new", async () => {
  const producer = fakeProducer();
  const sender = new TelemetrySender(producer, "telemetry", fakeLog(), withKey);
  sender.send([end("s1")]);
  await eventually("the first send", () => producer.calls.length === 1, 2000);
  producer.calls[0].done.reject(new Error("broker gone"));
  await sender.idle();
  sender.send([]); // an idle engine's tick
  await eventually("the retry", () => producer.calls.length === 2, 2000);
  assert.deepEqual(producer.calls[1].values, [end("s1")]);
  producer.calls[1].done.resolve();
  await sender.idle();
});

Deno.test("telemetry: the failure is logged once and the recovery once", async () => {
  const producer = fakeProducer();
  const log = fakeLog();
  const sender = new TelemetrySender(producer, "telemetry", log, withKey);
  for (const outcome of ["fail", "fail", "fail", "ok", "ok", "fail", "ok"]) {
    sender.send([reading(producer.calls.length + 1)]);
    const n = producer.calls.length + 1;
    await eventually(`send ${n}`, () => producer.calls.length === n, 2000);
    const done = producer.calls[n - 1].done;
    if (outcome === "ok") done.resolve();
    else done.reject(new Error(`refused ${n}`));
    await sender.idle();
  }
  assert.deepEqual(log.lines, [
    "error sending telemetry failed: refused 1; retrying",
    "info Kafka takes telemetry again",
    "error sending telemetry failed: refused 6; retrying",
    "info Kafka takes telemetry again",
  ]);
});

Deno.test("telemetry: an end sent again while Kafka refuses is kept once, not piled up", async () => {
  const producer = fakeProducer();
  const sender = new TelemetrySender(producer, "telemetry", fakeLog(), withKey);
  for (let n = 1; n <= 3; n++) {
    sender.send([end("s1")]); // the engine sends an unacknowledged end again every 3 s
    await eventually(`send ${n}`, () => producer.calls.length === n, 2000);
    producer.calls[n - 1].done.reject(new Error("broker gone"));
    await sender.idle();
  }
  assert.deepEqual(producer.calls[2].values, [end("s1")]);
  sender.send([]);
  await eventually("the retry", () => producer.calls.length === 4, 2000);
  producer.calls[3].done.resolve();
  await sender.idle();
});

Deno.test("telemetry: every record is signed with the CP's key of the moment", async () => {
  const producer = fakeProducer();
  let key = KEY;
  const sender = new TelemetrySender(producer, "telemetry", fakeLog(), () => key);
  sender.send([reading(1), end("s1")]);
  await eventually("the first send", () => producer.calls.length === 1, 2000);
  for (const r of producer.calls[0].records) {
    assert.equal(await macRefusal([KEY], r.value, r.headers), undefined);
  }
  producer.calls[0].done.reject(new Error("broker gone"));
  await sender.idle();
  // The monitor registered again meanwhile: the kept end goes out under the new key.
  key = macKey(newCpKey(2));
  sender.send([]);
  await eventually("the retry", () => producer.calls.length === 2, 2000);
  const [again] = producer.calls[1].records;
  assert.equal(await macRefusal([key], again.value, again.headers), undefined);
  assert.equal(await macRefusal([KEY], again.value, again.headers), "key 2 not valid");
  producer.calls[1].done.resolve();
  await sender.idle();
});

Deno.test("telemetry: without a key readings are not sent and ends wait for one", async () => {
  const producer = fakeProducer();
  const log = fakeLog();
  const monitor: { key?: typeof KEY } = {};
  const sender = new TelemetrySender(producer, "telemetry", log, () => monitor.key);
  sender.send([reading(1), end("s1")]);
  sender.send([reading(2)]);
  await sender.idle();
  assert.equal(producer.calls.length, 0);
  monitor.key = KEY;
  sender.send([reading(3)]);
  await eventually("the send", () => producer.calls.length === 1, 2000);
  assert.deepEqual(producer.calls[0].values, [end("s1"), reading(3)]);
  producer.calls[0].done.resolve();
  await sender.idle();
  assert.equal(log.lines.length, 2, "said once that it waits, once that it signs");
});
