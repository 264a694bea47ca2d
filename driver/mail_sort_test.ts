import assert from "node:assert/strict";
import type { ControlMessage, TelemetryMessage } from "../shared/protocol/messages.ts";
import { SeenIds, sortMessage } from "./mail_sort.ts";

const envelope = { id: "m", ts: 1 };
const ticket = (driver: string, request: string): ControlMessage => ({
  type: "TICKET",
  ...envelope,
  driver_id: driver,
  request_id: request,
  session_id: "s-1",
  cp_id: "CP-01",
  price_eur_kwh: 0.5,
  consumo_kwh: 1,
  importe_eur: 0.5,
  started_at: 1,
  ended_at: 2,
  status: "ENDED",
  reason: "COMPLETED",
});
const authorized = (driver: string, request: string): ControlMessage => ({
  type: "AUTHORIZED",
  ...envelope,
  driver_id: driver,
  request_id: request,
  cp_id: "CP-01",
  session_id: "s-1",
  price_eur_kwh: 0.5,
});
const denied = (request: string): ControlMessage => ({
  type: "DENIED",
  ...envelope,
  driver_id: "D-1",
  request_id: request,
  cp_id: "CP-01",
  reason: "BUSY",
  message: "busy",
});
const reading = (driver: string): TelemetryMessage => ({
  type: "TELEMETRY",
  ...envelope,
  cp_id: "CP-01",
  driver_id: driver,
  session_id: "s-1",
  consumo_kwh: 0.1,
  importe_eur: 0.05,
  seq: 1,
});

const mine = new Set(["r-now"]);

Deno.test("this run's ticket ends its charge; an earlier run's is told apart", () => {
  assert.equal(sortMessage(ticket("D-1", "r-now"), "D-1", mine), "ticket");
  assert.equal(sortMessage(ticket("D-1", "r-before"), "D-1", mine), "earlier ticket");
});

Deno.test("another driver's messages are dropped, tickets included", () => {
  assert.equal(sortMessage(ticket("D-2", "r-now"), "D-1", mine), "drop");
  assert.equal(sortMessage(authorized("D-2", "r-now"), "D-1", mine), "drop");
  assert.equal(sortMessage(reading("D-2"), "D-1", mine), "drop");
});

Deno.test("answers go to the flow only for this run's requests", () => {
  assert.equal(sortMessage(authorized("D-1", "r-now"), "D-1", mine), "flow");
  assert.equal(sortMessage(denied("r-now"), "D-1", mine), "flow");
  assert.equal(sortMessage(authorized("D-1", "r-before"), "D-1", mine), "drop");
  assert.equal(sortMessage(denied("r-before"), "D-1", mine), "drop");
});

Deno.test("this driver's telemetry goes to the flow, which matches it by session", () => {
  assert.equal(sortMessage(reading("D-1"), "D-1", mine), "flow");
});

Deno.test("orders to engines and ends of supply are dropped, even naming this driver", () => {
  const stop: ControlMessage = {
    type: "STOP_SUPPLY",
    ...envelope,
    cp_id: "CP-01",
    session_id: "s-1",
    reason: "DRIVER_CANCELLED",
    driver_id: "D-1",
  };
  assert.equal(sortMessage(stop, "D-1", mine), "drop");
  assert.equal(sortMessage({ ...stop, driver_id: undefined }, "D-1", mine), "drop");
  const end: TelemetryMessage = {
    type: "SUPPLY_END",
    ...envelope,
    cp_id: "CP-01",
    driver_id: "D-1",
    session_id: "s-1",
    consumo_kwh: 1,
    importe_eur: 0.5,
    reason: "COMPLETED",
    ended_at: 2,
  } as TelemetryMessage;
  assert.equal(sortMessage(end, "D-1", mine), "drop");
});

Deno.test("seen ids: the second copy of a message is told, the oldest ids forgotten", () => {
  const seen = new SeenIds(2);
  assert.equal(seen.seen("a"), false);
  assert.equal(seen.seen("a"), true);
  assert.equal(seen.seen("b"), false);
  assert.equal(seen.seen("c"), false);
  assert.equal(seen.seen("a"), false, "forgotten after two newer ones");
});
