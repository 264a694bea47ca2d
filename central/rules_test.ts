import assert from "node:assert/strict";
import {
  type ChargeRequest,
  DENY_TEXT,
  type Register,
  stamp,
} from "../shared/protocol/messages.ts";
import {
  ChargingNetwork,
  type Effect,
  localDriver,
  NOT_REGISTERED_YET,
  shownState,
} from "./rules.ts";
import { amountFor } from "../shared/protocol/money.ts";

const T0 = 1_800_000_000_000;
const reg = (cp_id: string, health: "OK" | "KO" = "OK"): Register => ({
  type: "REGISTER",
  cp_id,
  location: "C/Italia 5",
  price_eur_kwh: 0.5,
  health,
});
const request = (driver: string, cp: string, ts = T0): ChargeRequest =>
  stamp({ type: "CHARGE_REQUEST", driver_id: driver, cp_id_solicitado: cp }, ts);
const sent = (effects: Effect[]) => effects.flatMap((e) => (e.kind === "send" ? [e.message] : []));
const kinds = (effects: Effect[]) =>
  effects.flatMap((e) => (e.kind === "event" ? [e.event.kind] : []));

function network(): ChargingNetwork {
  return new ChargingNetwork({ requestTimeoutMs: 10_000, telemetryTimeoutMs: 10_000 });
}

function authorize(n: ChargingNetwork, driver = "D1", cp = "CP-01") {
  const effects = n.request(request(driver, cp), T0);
  const start = sent(effects).find((m) => m.type === "START_SUPPLY");
  assert.ok(start && start.type === "START_SUPPLY", "authorized");
  return start;
}

Deno.test("state is derived: DESCONECTADO > AVERIADO > PARADO > SUMINISTRANDO > ACTIVADO", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const cp = n.get("CP-01")!;
  assert.equal(shownState(cp), "ACTIVADO");
  authorize(n);
  assert.equal(shownState(cp), "SUMINISTRANDO");
  n.linkDown("CP-01", T0, "closed");
  assert.equal(shownState(cp), "DESCONECTADO", "a lost link shows first, session or not");
});

Deno.test("registration: new CPs are enrolled, known ones welcomed back, a second monitor refused", () => {
  const n = network();
  const first = n.register(reg("CP-01"), T0);
  assert.ok(first.ok && !first.known);
  assert.deepEqual(kinds(first.effects), ["registered"]);
  const dup = n.register(reg("CP-01"), T0);
  assert.ok(!dup.ok);
  assert.match(dup.reason, /already connected/);
  assert.equal(n.get("CP-01")!.link, "up", "the first monitor keeps its link");
  n.linkDown("CP-01", T0, "closed");
  const back = n.register({ ...reg("CP-01"), location: "New place" }, T0);
  assert.ok(back.ok && back.known);
  assert.equal(n.get("CP-01")!.location, "New place");
});

Deno.test("authorization only for an ACTIVADO, free CP; each denial says why", () => {
  const n = network();
  for (const id of ["CP-A", "CP-B", "CP-C", "CP-D"]) n.register(reg(id), T0);
  n.reportHealth("CP-B", "KO", T0);
  n.command("PARAR", "CP-C", T0, "console");
  n.linkDown("CP-D", T0, "closed");
  authorize(n, "D1", "CP-A");
  const reasonFor = (driver: string, cp: string, ts = T0) => {
    const m = sent(n.request(request(driver, cp, ts), T0)).find((x) => x.type === "DENIED");
    return m?.type === "DENIED" ? m.reason : undefined;
  };
  assert.equal(reasonFor("D2", "CP-A"), "BUSY");
  assert.equal(reasonFor("D2", "CP-B"), "AVERIADO");
  assert.equal(reasonFor("D2", "CP-C"), "PARADO");
  assert.equal(reasonFor("D2", "CP-D"), "DESCONECTADO");
  assert.equal(reasonFor("D2", "CP-Z"), "UNKNOWN_CP");
  assert.equal(reasonFor("D1", "CP-B"), "DRIVER_BUSY");
  assert.equal(reasonFor("D3", "CP-A", T0 - 60_000), "EXPIRED");
});

Deno.test("a duplicated request is served once", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const r = request("D1", "CP-01");
  assert.equal(sent(n.request(r, T0)).length, 2);
  assert.equal(sent(n.request(r, T0)).length, 0);
});

Deno.test("telemetry is applied only to the session it names, in order, never decreasing", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const start = authorize(n);
  const t = (seq: number, kwh: number, extra = {}) =>
    stamp({
      type: "TELEMETRY",
      cp_id: "CP-01",
      driver_id: "D1",
      session_id: start.session_id,
      consumo_kwh: kwh,
      importe_eur: kwh * 0.5,
      seq,
      ...extra,
    });
  assert.equal(n.telemetry(t(1, 0.1), T0)[0].kind, "progress");
  assert.equal(n.telemetry(t(1, 0.1), T0)[0].kind, "log", "duplicate seq ignored");
  assert.equal(n.telemetry(t(3, 0.05), T0)[0].kind, "log", "decreasing kWh ignored");
  assert.equal(n.telemetry(t(4, 0.9, { driver_id: "D9" }), T0)[0].kind, "log", "wrong driver");
  assert.equal(n.telemetry(t(5, 0.9, { session_id: "other" }), T0)[0].kind, "log", "other session");
  assert.equal(n.get("CP-01")!.session!.consumo_kwh, 0.1);
});

Deno.test("the end of supply closes the session ENDED and the ticket equals what was billed", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const start = authorize(n);
  const end = stamp({
    type: "SUPPLY_END",
    cp_id: "CP-01",
    driver_id: "D1",
    session_id: start.session_id,
    consumo_kwh: 2,
    importe_eur: 1,
    reason: "COMPLETED",
  });
  const effects = n.supplyEnd(end, T0 + 5000);
  const ticket = sent(effects).find((m) => m.type === "TICKET");
  assert.ok(ticket?.type === "TICKET");
  assert.equal(ticket.status, "ENDED");
  assert.equal(ticket.consumo_kwh, 2);
  assert.equal(ticket.importe_eur, 1);
  assert.deepEqual(effects.find((e) => e.kind === "close_session"), {
    kind: "close_session",
    ticket,
  });
  assert.equal(shownState(n.get("CP-01")!), "ACTIVADO");
  assert.equal(n.supplyEnd(end, T0)[0].kind, "log", "a second end is ignored");
});

Deno.test("money: Central keeps kWh to 3 decimals and bills € = amountFor(kWh, the session's price)", () => {
  const n = network();
  n.register({ ...reg("CP-01"), price_eur_kwh: 0.37 }, T0);
  const start = authorize(n);
  const common = {
    cp_id: "CP-01",
    driver_id: "D1",
    session_id: start.session_id,
  };
  // An engine that reports float noise and an amount of its own (within the cent that
  // plausibility allows).
  n.telemetry(
    stamp({
      type: "TELEMETRY",
      ...common,
      consumo_kwh: 0.32845324999999999,
      importe_eur: 0.12152769999999999,
      seq: 2,
    }),
    T0 + 2000,
  );
  const s = n.get("CP-01")!.session!;
  assert.deepEqual([s.consumo_kwh, s.importe_eur], [0.328, 0.121]);
  const end = stamp({
    type: "SUPPLY_END",
    ...common,
    consumo_kwh: 1.0005,
    importe_eur: 99,
    reason: "COMPLETED",
  });
  const ticket = sent(n.supplyEnd(end, T0 + 5000)).find((m) => m.type === "TICKET");
  assert.ok(ticket?.type === "TICKET");
  assert.equal(ticket.consumo_kwh, 1.001, "halves away from zero, in decimal");
  assert.equal(ticket.importe_eur, amountFor(1.001, 0.37));
  assert.equal(ticket.importe_eur, 0.37);
});

Deno.test("PARAR aborts the running session and survives a reconnect; REANUDAR resumes", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  authorize(n);
  const effects = n.command("PARAR", "CP-01", T0, "console");
  const msgs = sent(effects);
  assert.deepEqual(msgs.map((m) => m.type), ["PARAR", "TICKET"]);
  assert.equal(msgs[1].type === "TICKET" && msgs[1].status, "ABORTED");
  n.linkDown("CP-01", T0, "closed");
  n.register(reg("CP-01"), T0);
  assert.equal(shownState(n.get("CP-01")!), "PARADO");
  n.command("REANUDAR", "all", T0, "console");
  assert.equal(shownState(n.get("CP-01")!), "ACTIVADO");
});

Deno.test("AVERIA during a charge aborts it and tells the engine to stop", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  authorize(n);
  const msgs = sent(n.reportHealth("CP-01", "KO", T0));
  assert.deepEqual(msgs.map((m) => m.type), ["TICKET", "STOP_SUPPLY"]);
  assert.equal(msgs[0].type === "TICKET" && msgs[0].reason, "AVERIA");
  // The driver goes with it: an engine that never had the session answers for that driver.
  assert.equal(msgs[1].type === "STOP_SUPPLY" && msgs[1].driver_id, "D1");
  assert.equal(shownState(n.get("CP-01")!), "AVERIADO");
  n.reportHealth("CP-01", "OK", T0);
  assert.equal(shownState(n.get("CP-01")!), "ACTIVADO");
});

Deno.test("the watchdog closes a session whose telemetry stopped", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  authorize(n);
  assert.deepEqual(n.tick(T0 + 9_000), []);
  const msgs = sent(n.tick(T0 + 10_001));
  assert.equal(msgs[0].type === "TICKET" && msgs[0].reason, "TELEMETRY_TIMEOUT");
  assert.equal(n.get("CP-01")!.session, undefined);
});

Deno.test("a driver's cancel ends its own running session only", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const start = authorize(n);
  const other = stamp({ type: "CANCEL_REQUEST", driver_id: "D2", request_id: start.request_id });
  assert.equal(n.cancel(other, T0)[0].kind, "log");
  const mine = stamp({ type: "CANCEL_REQUEST", driver_id: "D1", request_id: start.request_id });
  const msgs = sent(n.cancel(mine, T0));
  assert.equal(msgs[0].type === "TICKET" && msgs[0].reason, "DRIVER_CANCELLED");
});

Deno.test("loading a stored network: links down, sessions running, PARADO kept", () => {
  const n = network();
  n.load(
    [{ cp_id: "CP-01", location: "x", price_eur_kwh: 0.3, health: "OK", stopped: true }],
    [],
  );
  assert.equal(shownState(n.get("CP-01")!), "DESCONECTADO");
  n.register(reg("CP-01"), T0);
  assert.equal(shownState(n.get("CP-01")!), "PARADO");
});

Deno.test("a denial is an effect of its own: the request id to remember, and the DENIED", () => {
  const n = network();
  const r = request("D1", "CP-Z");
  const effects = n.request(r, T0);
  assert.deepEqual(effects.filter((e) => e.kind === "deny"), [{ kind: "deny", request_id: r.id }]);
  assert.equal(sent(effects)[0].type, "DENIED");
  assert.ok(!authorizedEffects(n).some((e) => e.kind === "deny"), "an authorization is not one");
});

function authorizedEffects(n: ChargingNetwork): Effect[] {
  n.register(reg("CP-02"), T0);
  return n.request(request("D9", "CP-02"), T0);
}

Deno.test("enrolment is an effect: a CP not registered yet is created with its secret hash", () => {
  const n = network();
  const effects = n.enrol("CP-05", "hash-1", T0);
  const stored = effects.find((e) => e.kind === "enrol");
  assert.ok(stored?.kind === "enrol");
  assert.equal(stored.secret_hash, "hash-1");
  assert.equal(stored.cp.location, NOT_REGISTERED_YET);
  assert.deepEqual(kinds(effects), ["enrolled"]);
  assert.equal(shownState(n.get("CP-05")!), "DESCONECTADO", "until its monitor registers");
  // A known CP keeps what it is; only its secret changes.
  n.register(reg("CP-06"), T0);
  const again = n.enrol("CP-06", "hash-2", T0).find((e) => e.kind === "enrol");
  assert.ok(again?.kind === "enrol");
  assert.equal(again.cp.location, "C/Italia 5");
});

Deno.test("a supply asked for at the CP: authorized with its length, or refused in words", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const ok = n.supplyLocally("CP-01", 30, T0);
  assert.equal(ok.refused, undefined);
  const start = sent(ok.effects).find((m) => m.type === "START_SUPPLY");
  assert.ok(start?.type === "START_SUPPLY");
  assert.equal(start.duration_s, 30);
  assert.equal(start.driver_id, localDriver("CP-01"));
  assert.equal(shownState(n.get("CP-01")!), "SUMINISTRANDO");
  const busy = n.supplyLocally("CP-01", 30, T0);
  assert.equal(busy.refused, DENY_TEXT.DRIVER_BUSY);
  assert.equal(n.supplyLocally("CP-99", 30, T0).refused, DENY_TEXT.UNKNOWN_CP);
});

Deno.test("every denial event names the driver, the CP asked for and the reason", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  authorize(n, "D1", "CP-01");
  const cases: [ChargeRequest, string, string][] = [
    [request("D2", "CP-07"), "CP-07", "UNKNOWN_CP"],
    [request("D2", "CP-01"), "CP-01", "BUSY"],
    [request("D1", "CP-01"), "CP-01", "DRIVER_BUSY"],
    [request("D3", "CP-01", T0 - 60_000), "CP-01", "EXPIRED"],
  ];
  for (const [req, cp, reason] of cases) {
    const denied = n.request(req, T0).flatMap((e) =>
      e.kind === "event" && e.event.kind === "denied" ? [e.event] : []
    );
    assert.equal(denied.length, 1, reason);
    assert.equal(denied[0].detail, `driver ${req.driver_id} asked for ${cp}: ${reason}`);
  }
});

Deno.test("a PARAR / REANUDAR event names who gave it", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const detail = (effects: Effect[]) =>
    effects.flatMap((e) => e.kind === "event" ? [e.event.detail] : []);
  assert.deepEqual(detail(n.command("PARAR", "CP-01", T0, "monitor")), [
    "stopped at the CP, from its monitor",
  ]);
  assert.deepEqual(detail(n.command("REANUDAR", "CP-01", T0, "console")), [
    "resumed by the operator at Central's console",
  ]);
  assert.deepEqual(detail(n.command("PARAR", "all", T0, "http")), [
    "stopped by the operator through the HTTP API",
  ]);
});

Deno.test("forget: only a known CP that is not connected and not supplying", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  n.register(reg("CP-07"), T0);
  const refused = (id: string) => {
    const r = n.forget(id, T0, "console");
    assert.ok(!r.ok, id);
    return r;
  };
  assert.equal(refused("CP-09").refusal, "UNKNOWN");
  assert.equal(refused("CP-07").refusal, "CONNECTED");
  assert.match(refused("CP-07").reason, /CP-07 is connected/);
  authorize(n, "D1", "CP-01");
  n.linkDown("CP-01", T0, "closed");
  assert.equal(refused("CP-01").refusal, "SUPPLYING", "a running session keeps it");
  assert.equal(n.size, 2, "nothing changed");

  n.linkDown("CP-07", T0, "closed");
  const done = n.forget("CP-07", T0, "console");
  assert.ok(done.ok);
  assert.deepEqual(done.effects.map((e) => e.kind), ["forget_cp", "event"]);
  assert.deepEqual(kinds(done.effects), ["forgotten"]);
  assert.equal(n.get("CP-07"), undefined);
  assert.deepEqual(n.list().map((c) => c.cp_id), ["CP-01"]);
  const denied = sent(n.request(request("D2", "CP-07"), T0));
  assert.ok(denied[0].type === "DENIED" && denied[0].reason === "UNKNOWN_CP");
});

Deno.test("forget: the list follows even when another CP takes the count back", () => {
  const n = network();
  for (const id of ["CP-01", "CP-07"]) n.register(reg(id), T0);
  assert.equal(n.list().length, 2);
  n.linkDown("CP-07", T0, "closed");
  assert.ok(n.forget("CP-07", T0, "console").ok);
  n.register(reg("CP-02"), T0);
  assert.deepEqual(n.list().map((c) => c.cp_id), ["CP-01", "CP-02"]);
});

Deno.test("forget: a forgotten CP that registers again is enrolled as new; one enrolled again is stored whole", () => {
  const n = network();
  n.register(reg("CP-07"), T0);
  n.command("PARAR", "CP-07", T0, "console");
  n.linkDown("CP-07", T0, "closed");
  assert.ok(n.forget("CP-07", T0, "console").ok);
  const again = n.register(reg("CP-07"), T0);
  assert.ok(again.ok && !again.known);
  assert.equal(shownState(again.cp), "ACTIVADO", "its old PARAR went with it");
  n.linkDown("CP-07", T0, "closed");
  assert.ok(n.forget("CP-07", T0, "console").ok);
  const enrolled = n.enrol("CP-07", "hash", T0);
  assert.deepEqual(enrolled.map((e) => e.kind), ["save_cp", "enrol", "event"]);
});

// ---------------------------------------------------------------------------
// Settlement: the engine's record settles what Central closed without it.

const endOf = (
  start: { session_id: string },
  kwh: number,
  reason: "COMPLETED" | "TELEMETRY_TIMEOUT" | "NOT_SUPPLIED" = "COMPLETED",
  extra = {},
) =>
  stamp({
    type: "SUPPLY_END",
    cp_id: "CP-01",
    driver_id: "D1",
    session_id: start.session_id,
    consumo_kwh: kwh,
    importe_eur: 99, // the engine's own € is not trusted
    reason,
    ...extra,
  });
const tickets = (effects: Effect[]) => sent(effects).flatMap((m) => m.type === "TICKET" ? [m] : []);
const acks = (effects: Effect[]) =>
  sent(effects).flatMap((m) => m.type === "SUPPLY_END_ACK" ? [m.session_id] : []);
const deniedFor = (n: ChargingNetwork, driver: string, cp = "CP-01", at = T0) => {
  const answers = sent(n.request(request(driver, cp, at), at)).flatMap((m) =>
    m.type === "DENIED" ? [m.reason] : m.type === "AUTHORIZED" ? [m.type] : []
  );
  return answers[0];
};

Deno.test("a session closed without the engine's word is provisional; the engine's end settles it", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const start = authorize(n);
  n.telemetry(
    stamp({
      type: "TELEMETRY",
      cp_id: "CP-01",
      driver_id: "D1",
      session_id: start.session_id,
      consumo_kwh: 0.111,
      importe_eur: amountFor(0.111, 0.5),
      seq: 1,
    }),
    T0,
  );
  const closed = n.tick(T0 + 10_001);
  const [provisional] = tickets(closed);
  assert.equal(provisional.reason, "TELEMETRY_TIMEOUT");
  assert.equal(provisional.provisional, true, "the ticket says it is provisional");
  assert.equal(provisional.consumo_kwh, 0.111);
  const stored = closed.find((e) => e.kind === "close_session");
  assert.ok(stored?.kind === "close_session" && stored.ticket.provisional === true);
  assert.deepEqual(n.get("CP-01")!.unsettled?.map((u) => u.session_id), [start.session_id]);
  assert.equal(shownState(n.get("CP-01")!), "ACTIVADO");
  assert.equal(deniedFor(n, "D2", "CP-01", T0 + 11_000), "SETTLING", "it may still be supplying");

  const endedAt = T0 + 30_000;
  const effects = n.supplyEnd(endOf(start, 0.833, "COMPLETED", { ended_at: endedAt }), T0 + 40_000);
  const [final] = tickets(effects);
  assert.equal(final.provisional, undefined, "the final ticket carries no provisional flag");
  assert.equal(final.status, "ENDED");
  assert.equal(final.reason, "COMPLETED");
  assert.equal(final.consumo_kwh, 0.833);
  assert.equal(final.importe_eur, amountFor(0.833, 0.5));
  assert.equal(final.ended_at, endedAt, "the engine's time");
  assert.equal(final.started_at, provisional.started_at);
  assert.equal(final.request_id, start.request_id);
  assert.deepEqual(effects.find((e) => e.kind === "settle_session"), {
    kind: "settle_session",
    ticket: final,
  });
  assert.deepEqual(kinds(effects), ["session_settled"]);
  assert.deepEqual(acks(effects), [start.session_id]);
  assert.deepEqual(n.get("CP-01")!.unsettled ?? [], []);
  assert.equal(deniedFor(n, "D2", "CP-01", T0 + 40_000), "AUTHORIZED", "settled: free again");

  const again = n.supplyEnd(endOf(start, 0.833, "COMPLETED", { ended_at: endedAt }), T0 + 41_000);
  assert.deepEqual(tickets(again), [], "a repeated end changes nothing");
  assert.deepEqual(acks(again), [start.session_id], "but is acknowledged again");
});

Deno.test("SETTLING comes after the other reasons: a lost or broken CP says so first", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  authorize(n);
  n.reportHealth("CP-01", "KO", T0); // AVERIA closes it provisional
  assert.equal(deniedFor(n, "D2"), "AVERIADO");
  n.linkDown("CP-01", T0, "closed");
  assert.equal(deniedFor(n, "D3"), "DESCONECTADO");
  n.register(reg("CP-01"), T0);
  assert.equal(deniedFor(n, "D4"), "SETTLING");
  assert.equal(deniedFor(n, "D5", "CP-77"), "UNKNOWN_CP");
});

Deno.test("every way Central closes a session alone is provisional: PARAR, AVERIA, cancel, watchdog", () => {
  const closers: [string, (n: ChargingNetwork, start: { request_id: string }) => Effect[]][] = [
    ["PARAR", (n) => n.command("PARAR", "CP-01", T0, "console")],
    ["AVERIA", (n) => n.reportHealth("CP-01", "KO", T0)],
    [
      "DRIVER_CANCELLED",
      (n, s) =>
        n.cancel(stamp({ type: "CANCEL_REQUEST", driver_id: "D1", request_id: s.request_id }), T0),
    ],
    ["TELEMETRY_TIMEOUT", (n) => n.tick(T0 + 10_001)],
  ];
  for (const [reason, close] of closers) {
    const n = network();
    n.register(reg("CP-01"), T0);
    const start = authorize(n);
    const [t] = tickets(close(n, start));
    assert.equal(t.reason, reason);
    assert.equal(t.provisional, true, reason);
    assert.equal(n.get("CP-01")!.unsettled?.length, 1, reason);
  }
});

Deno.test("while a session is unsettled, STOP_SUPPLY goes again every 5 s with the reason it was closed for", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const start = authorize(n);
  n.reportHealth("CP-01", "KO", T0);
  const stops = (at: number) =>
    sent(n.tick(at)).flatMap((m) => m.type === "STOP_SUPPLY" ? [[m.session_id, m.reason]] : []);
  assert.deepEqual(stops(T0 + 4_000), [], "it was just sent");
  assert.deepEqual(stops(T0 + 5_000), [[start.session_id, "AVERIA"]]);
  assert.deepEqual(stops(T0 + 6_000), []);
  assert.deepEqual(stops(T0 + 10_000), [[start.session_id, "AVERIA"]]);
  n.supplyEnd(endOf(start, 0.2, "COMPLETED"), T0 + 10_500);
  assert.deepEqual(stops(T0 + 20_000), [], "settled: no more");
});

Deno.test("a driver's cancel never overrides the engine's record: COMPLETED stays COMPLETED", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const start = authorize(n);
  const cancel = stamp({ type: "CANCEL_REQUEST", driver_id: "D1", request_id: start.request_id });
  assert.equal(tickets(n.cancel(cancel, T0 + 1_000))[0].reason, "DRIVER_CANCELLED");
  const [final] = tickets(n.supplyEnd(endOf(start, 0.417, "COMPLETED"), T0 + 2_000));
  assert.deepEqual(
    [final.status, final.reason, final.consumo_kwh, final.importe_eur],
    ["ENDED", "COMPLETED", 0.417, amountFor(0.417, 0.5)],
  );
  // The other order: the engine's end first, then the cancel: nothing left to cancel.
  const m = network();
  m.register(reg("CP-01"), T0);
  const s2 = authorize(m);
  assert.equal(tickets(m.supplyEnd(endOf(s2, 0.417), T0 + 1_000))[0].provisional, undefined);
  const late = stamp({ type: "CANCEL_REQUEST", driver_id: "D1", request_id: s2.request_id });
  assert.deepEqual(m.cancel(late, T0 + 2_000).map((e) => e.kind), ["log"]);
});

Deno.test("the engine's end closes a running session final, at the engine's figures and time", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  const start = authorize(n);
  n.telemetry(
    stamp({
      type: "TELEMETRY",
      cp_id: "CP-01",
      driver_id: "D1",
      session_id: start.session_id,
      consumo_kwh: 0.5,
      importe_eur: amountFor(0.5, 0.5),
      seq: 4,
    }),
    T0,
  );
  const effects = n.supplyEnd(endOf(start, 0.4, "COMPLETED", { ended_at: T0 + 3_000 }), T0 + 9_000);
  const [t] = tickets(effects);
  assert.deepEqual([t.consumo_kwh, t.ended_at, t.provisional], [0.4, T0 + 3_000, undefined]);
  assert.deepEqual(acks(effects), [start.session_id]);
  assert.deepEqual(n.get("CP-01")!.unsettled ?? [], []);
});

Deno.test("SUPPLY_END for a session of another CP or driver changes nothing and is not acknowledged; an unknown one is", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  n.register(reg("CP-02"), T0);
  const running = authorize(n, "D1", "CP-01");
  const parked = authorize(n, "D2", "CP-02");
  n.reportHealth("CP-02", "KO", T0); // parked becomes unsettled
  const forged = [
    n.supplyEnd(endOf(running, 9, "COMPLETED", { driver_id: "D9" }), T0),
    n.supplyEnd(endOf(running, 9, "COMPLETED", { cp_id: "CP-02" }), T0),
    n.supplyEnd(endOf(parked, 9, "COMPLETED", { driver_id: "D2", cp_id: "CP-01" }), T0),
    n.supplyEnd(endOf(parked, 9, "COMPLETED", { cp_id: "CP-02" }), T0), // driver D1: wrong
  ];
  for (const effects of forged) {
    assert.deepEqual(effects.map((e) => e.kind), ["log"]);
    assert.equal(effects[0].kind === "log" && effects[0].level, "warn");
  }
  assert.equal(n.get("CP-01")!.session?.session_id, running.session_id, "still running");
  assert.equal(n.get("CP-02")!.unsettled?.length, 1, "still unsettled");
  const unknown = n.supplyEnd(endOf({ session_id: "never-heard-of" }, 1), T0);
  assert.deepEqual(acks(unknown), ["never-heard-of"], "acknowledged: harmless, ends the resends");
  assert.deepEqual(tickets(unknown), []);
});

Deno.test("unsettled sessions are loaded at start: the CP is SETTLING until the engine's end, STOP_SUPPLY goes at once", () => {
  const n = network();
  n.load(
    [{ cp_id: "CP-01", location: "x", price_eur_kwh: 0.5, health: "OK", stopped: false }],
    [],
    [],
    [{
      session_id: "s1",
      request_id: "r1",
      cp_id: "CP-01",
      driver_id: "D1",
      price_eur_kwh: 0.4,
      started_at: T0 - 60_000,
      consumo_kwh: 0.1,
      importe_eur: 0.04,
      reason: "TELEMETRY_TIMEOUT",
      ended_at: T0 - 30_000,
    }],
  );
  n.register(reg("CP-01"), T0);
  assert.equal(deniedFor(n, "D2"), "SETTLING");
  const stop = sent(n.tick(T0)).find((m) => m.type === "STOP_SUPPLY");
  assert.ok(stop?.type === "STOP_SUPPLY" && stop.session_id === "s1");
  const [final] = tickets(n.supplyEnd(endOf({ session_id: "s1" }, 0.9, "COMPLETED"), T0));
  assert.equal(final.importe_eur, amountFor(0.9, 0.4), "at the session's price, not the CP's");
  assert.equal(final.ended_at, T0 - 30_000, "no engine time: Central's close time stays");
  assert.equal(deniedFor(n, "D2", "CP-01", T0 + 1), "AUTHORIZED");
});

Deno.test("forget: refused while the CP has an unsettled session (it may still be supplying)", () => {
  const n = network();
  n.register(reg("CP-01"), T0);
  authorize(n);
  n.reportHealth("CP-01", "KO", T0);
  n.linkDown("CP-01", T0, "closed");
  const r = n.forget("CP-01", T0, "console");
  assert.ok(!r.ok && r.refusal === "SUPPLYING");
});
