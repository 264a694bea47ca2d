import assert from "node:assert/strict";
import { centralWrites, parseRecord } from "./evidence.ts";

const AT = Date.UTC(2026, 11, 3, 12);

Deno.test("parseRecord: every kind, blank lines skipped, bad and torn lines reported by number", () => {
  const lines = [
    {
      kind: "start",
      session_id: "S1",
      cp_id: "CP-01",
      driver_id: "D1",
      price_eur_kwh: 0.35,
      at: AT,
    },
    { kind: "meter", session_id: "S1", consumo_kwh: 0.1, seq: 0, at: AT + 1_000 },
    {
      kind: "end",
      session_id: "S1",
      cp_id: "CP-01",
      driver_id: "D1",
      consumo_kwh: 0.5,
      importe_eur: 0.175,
      reason: "COMPLETED",
      ended_at: AT + 4_000,
    },
    { kind: "acked", session_id: "S1", at: AT + 4_100 },
  ];
  const text = [
    ...lines.map((l) => JSON.stringify(l)),
    "",
    '{"kind":"meter","session_id":"S1","consumo_kwh":"1","seq":0,"at":1}',
    '{"kind":"refill"}',
    '{"kind":"ac',
  ].join("\n");
  const rec = parseRecord("CP-01", "r.jsonl", text);
  assert.deepEqual(rec.lines, lines);
  assert.deepEqual(rec.bad.map((b) => b.slice(0, 8)), ["line 6: ", "line 7: ", "line 8: "]);
  assert.match(rec.bad[1], /refill/);
  for (const b of rec.bad) assert.ok(!b.includes("\n"), b);
});

Deno.test("centralWrites: the stored events' lines, at the time they were received", () => {
  const log = [
    "1000 12:00:00.000 INFO  [central] EV_Central listening for monitors on port 7000",
    "2000 12:00:01.000 INFO  [central] CP-01 registered: location x, price 0.35",
    "3000 STATE CP-01 ACTIVADO",
    "4000 12:00:03.000 WARN  [central] - register_refused: CP-09 already connected",
    // A standby's Kafka client complaining is no write (chaos seed 1 took it for one).
    "5000 12:00:04.000 WARN  [kafka] Connection error: connect ECONNREFUSED 10.77.0.2:9092",
    // Nor is a lease-less Central's last word (chaos seed 20261203, 30 minutes).
    "6000 12:00:05.000 WARN  [central] Kafka unreachable: the session watchdog waits until it is back",
    "garbage",
  ].join("\n");
  assert.deepEqual(centralWrites("central#1", log), {
    instance: "central#1",
    writes: [2000, 4000],
  });
});
