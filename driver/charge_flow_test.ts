import assert from "node:assert/strict";
import {
  type Authorized,
  type ChargeRequest,
  type ControlMessage,
  type Denied,
  type RequestsMessage,
  stamp,
  type Telemetry,
  type TelemetryMessage,
  type Ticket,
} from "../shared/protocol/messages.ts";
import {
  chargeAt,
  type DriverView,
  type FlowOptions,
  type Outcome,
  summarize,
} from "./charge_flow.ts";
import { Inbox } from "./inbox.ts";

const DRIVER = "D-1";
const CP = "CP-01";
const SESSION = "s-1";
/** Short enough for a test, long enough that a loaded machine does not time out by mistake. */
const RELAXED: FlowOptions = { answerTimeoutMs: 5_000, silenceTimeoutMs: 5_000 };

type Message = ControlMessage | TelemetryMessage;

/** A view that records each call as [name, ...arguments], and tells `onCall` of it. */
function recordingView(onCall: (name: string) => void = () => {}) {
  const calls: unknown[][] = [];
  const record = (name: string) => (...args: unknown[]) => {
    // progress() also gets the authorization, already recorded with authorized().
    calls.push([name, ...(name === "progress" ? args.slice(0, 1) : args)]);
    onCall(name);
  };
  const view: DriverView = {
    requested: record("requested"),
    authorized: record("authorized"),
    denied: record("denied"),
    progress: record("progress"),
    waitingFor: record("waitingFor"),
    noAnswer: record("noAnswer"),
    lost: record("lost"),
  };
  return { view, calls };
}

/**
 * A driver's I/O with a real inbox: `send` records each message and lets `central` answer it
 * by pushing into the inbox, as the Kafka consumer would.
 */
function rig(
  central: (m: RequestsMessage, inbox: Inbox<Message>) => void = () => {},
  onView?: (name: string) => void,
) {
  const inbox = new Inbox<Message>();
  const sent: { message: RequestsMessage; key: string }[] = [];
  const { view, calls } = recordingView(onView);
  const io = {
    driverId: DRIVER,
    inbox,
    view,
    send: (message: RequestsMessage, key: string) => {
      sent.push({ message, key });
      central(message, inbox);
      return Promise.resolve();
    },
  };
  return { io, inbox, sent, calls };
}

function authorizedFor(r: { id: string }, session = SESSION): Authorized {
  return stamp({
    type: "AUTHORIZED",
    driver_id: DRIVER,
    request_id: r.id,
    cp_id: CP,
    session_id: session,
    price_eur_kwh: 0.4,
  });
}

function deniedFor(r: { id: string }): Denied {
  return stamp({
    type: "DENIED",
    driver_id: DRIVER,
    request_id: r.id,
    cp_id: CP,
    reason: "BUSY",
    message: "another driver is charging at this point",
  });
}

function reading(kwh: number, seq: number, session = SESSION): Telemetry {
  return stamp({
    type: "TELEMETRY",
    cp_id: CP,
    driver_id: DRIVER,
    session_id: session,
    consumo_kwh: kwh,
    importe_eur: kwh * 0.4,
    seq,
  });
}

function ticketOf(
  kwh: number,
  status: Ticket["status"] = "ENDED",
  reason: Ticket["reason"] = "COMPLETED",
  session = SESSION,
): Ticket {
  return stamp({
    type: "TICKET",
    driver_id: DRIVER,
    request_id: "r-any",
    session_id: session,
    cp_id: CP,
    price_eur_kwh: 0.4,
    consumo_kwh: kwh,
    importe_eur: kwh * 0.4,
    started_at: 1_000,
    ended_at: 5_000,
    status,
    reason,
  });
}

const isRequest = (m: RequestsMessage): m is ChargeRequest => m.type === "CHARGE_REQUEST";

/** Checks that `sent` is the request and then its cancel, both keyed by the CP. */
function assertRequestThenCancel(sent: { message: RequestsMessage; key: string }[]): void {
  assert.equal(sent.length, 2, JSON.stringify(sent));
  const [request, cancel] = sent;
  assert.equal(request.message.type, "CHARGE_REQUEST");
  assert.equal(request.key, CP);
  const { id: _id, ts: _ts, ...body } = cancel.message;
  assert.deepEqual(body, {
    type: "CANCEL_REQUEST",
    driver_id: DRIVER,
    request_id: request.message.id,
  });
  assert.equal(cancel.key, CP);
}

Deno.test("authorized, readings, ticket: charged, each step shown in order (the ticket is shown by the desk), only the request sent", async () => {
  const readings = [reading(0.1, 1), reading(0.2, 2)];
  const ticket = ticketOf(0.25);
  let auth: Authorized | undefined;
  const { io, sent, calls } = rig((m, inbox) => {
    if (!isRequest(m)) return;
    auth = authorizedFor(m);
    // One Kafka batch may bring all of it at once: the inbox keeps what nobody waits for yet.
    for (const x of [auth, ...readings, ticket]) inbox.push(x);
  });
  const outcome = await chargeAt(CP, io, RELAXED);
  assert.deepEqual(outcome, { kind: "charged", ticket });
  assert.deepEqual(calls, [
    ["requested", CP],
    ["authorized", auth],
    ["progress", readings[0]],
    ["progress", readings[1]],
  ]);
  assert.equal(sent.length, 1);
  const { id: _id, ts: _ts, ...request } = sent[0].message;
  assert.deepEqual(request, { type: "CHARGE_REQUEST", driver_id: DRIVER, cp_id_solicitado: CP });
  assert.equal(sent[0].key, CP);
});

Deno.test("answers that come after the request went out are followed too", async () => {
  const sentRequest = Promise.withResolvers<RequestsMessage>();
  const { io, inbox, calls } = rig((m) => isRequest(m) && sentRequest.resolve(m));
  const run = chargeAt(CP, io, RELAXED);
  const request = await sentRequest.promise;
  inbox.push(authorizedFor(request));
  inbox.push(reading(0.1, 1));
  const ticket = ticketOf(0.1);
  inbox.push(ticket);
  assert.deepEqual(await run, { kind: "charged", ticket });
  assert.deepEqual(calls.map(([name]) => name), ["requested", "authorized", "progress"]);
});

Deno.test("denied: the denial is shown, nothing is cancelled", async () => {
  let denied: Denied | undefined;
  const { io, sent, calls } = rig((m, inbox) => {
    if (isRequest(m)) inbox.push(denied = deniedFor(m));
  });
  assert.deepEqual(await chargeAt(CP, io, RELAXED), { kind: "denied", denied });
  assert.deepEqual(calls, [["requested", CP], ["denied", denied]]);
  assert.deepEqual(sent.map((s) => s.message.type), ["CHARGE_REQUEST"]);
});

Deno.test("no answer in time: said so, then the request is cancelled", async () => {
  const { io, sent, calls } = rig();
  const outcome = await chargeAt(CP, io, { answerTimeoutMs: 20, silenceTimeoutMs: 5_000 });
  assert.deepEqual(outcome, { kind: "no_answer" });
  assert.deepEqual(calls, [["requested", CP], ["noAnswer", CP, 0.02]]);
  assertRequestThenCancel(sent);
});

Deno.test("silence during a charge: the charge is given up as lost and cancelled", async () => {
  let auth: Authorized | undefined;
  const { io, sent, calls } = rig((m, inbox) => {
    if (isRequest(m)) inbox.push(auth = authorizedFor(m));
  });
  const outcome = await chargeAt(CP, io, { answerTimeoutMs: 5_000, silenceTimeoutMs: 20 });
  assert.deepEqual(outcome, { kind: "lost" });
  assert.deepEqual(calls, [["requested", CP], ["authorized", auth], ["lost", CP, 0.02]]);
  assertRequestThenCancel(sent);
});

Deno.test("aborted during a charge: cancelled, and the ticket Central answers with is shown and counted", async () => {
  const stop = new AbortController();
  const ticket = ticketOf(0.1, "ABORTED", "DRIVER_CANCELLED");
  const { io, sent, calls } = rig(
    (m, inbox) => {
      if (isRequest(m)) {
        inbox.push(authorizedFor(m));
        inbox.push(reading(0.1, 1));
      } else {
        inbox.push(ticket); // Central's answer to the cancel
      }
    },
    // Ctrl+C while the charge runs: right after the first reading is shown.
    (name) => name === "progress" && stop.abort(),
  );
  const outcome = await chargeAt(CP, io, RELAXED, stop.signal);
  assert.deepEqual(outcome, { kind: "charged", ticket });
  assert.deepEqual(calls.map(([name]) => name), ["requested", "authorized", "progress"]);
  assertRequestThenCancel(sent);
  // The summary agrees with the ticket the driver was shown and saved.
  assert.equal(
    summarize(DRIVER, [outcome]),
    "SUMMARY D-1: 0 charged, 1 aborted, 0 denied, 0 not answered or given up; " +
      "0.100 kWh, 0.040 €",
  );
});

Deno.test("aborted as the ticket arrives: the ticket is the outcome, no cancel is sent", async () => {
  const stop = new AbortController();
  const ticket = ticketOf(0.2);
  const { io, sent, calls } = rig((m, inbox) => {
    if (!isRequest(m)) return;
    // One batch: the ticket is in the inbox when Ctrl+C comes during the last reading.
    for (const x of [authorizedFor(m), reading(0.1, 1), ticket]) inbox.push(x);
  }, (name) => name === "progress" && stop.abort());
  assert.deepEqual(await chargeAt(CP, io, RELAXED, stop.signal), { kind: "charged", ticket });
  assert.deepEqual(calls.at(-1)?.[0], "progress");
  assert.deepEqual(sent.map((s) => s.message.type), ["CHARGE_REQUEST"]);
});

Deno.test("aborted before Central's answer came: its last word on the request is the outcome", async () => {
  // Central had authorized (the answer was on its way): the cancel ends that session, and
  // Central sends its ticket, which the driver shows and counts.
  const stop = new AbortController();
  let ticket: Ticket | undefined;
  const authorizing = rig((m, inbox) => {
    if (isRequest(m)) return queueMicrotask(() => stop.abort());
    inbox.push(
      ticket = { ...ticketOf(0, "ABORTED", "DRIVER_CANCELLED"), request_id: m.request_id },
    );
  });
  const outcome = await chargeAt(CP, authorizing.io, RELAXED, stop.signal);
  assert.deepEqual(outcome, { kind: "charged", ticket });
  assert.deepEqual(authorizing.calls, [["requested", CP]]);
  assertRequestThenCancel(authorizing.sent);

  // Central had denied: the denial is shown and counted.
  const again = new AbortController();
  let denied: Denied | undefined;
  const denying = rig((m, inbox) => {
    if (isRequest(m)) return queueMicrotask(() => again.abort());
    inbox.push(denied = deniedFor({ id: m.request_id }));
  });
  assert.deepEqual(await chargeAt(CP, denying.io, RELAXED, again.signal), {
    kind: "denied",
    denied,
  });
  assert.deepEqual(denying.calls, [["requested", CP], ["denied", denied]]);
});

Deno.test("aborted while waiting for the answer, and Central says nothing: cancelled, nothing else shown", async () => {
  const stop = new AbortController();
  const { io, sent, calls } = rig((m) => {
    if (isRequest(m)) queueMicrotask(() => stop.abort());
  });
  const options = { ...RELAXED, lastWordMs: 20 };
  assert.deepEqual(await chargeAt(CP, io, options, stop.signal), { kind: "cancelled" });
  assert.deepEqual(calls, [["requested", CP]]);
  assertRequestThenCancel(sent);
});

Deno.test("messages of another request or session are ignored", async () => {
  const ticket = ticketOf(0.3);
  let auth: Authorized | undefined;
  const { io, sent, calls } = rig((m, inbox) => {
    if (!isRequest(m)) return;
    const other = { id: "another-request" };
    inbox.push(deniedFor(other));
    inbox.push(authorizedFor(other, "s-other"));
    inbox.push(auth = authorizedFor(m));
    inbox.push(reading(9, 1, "s-other"));
    inbox.push(ticketOf(9, "ENDED", "COMPLETED", "s-other"));
    inbox.push(ticket);
  });
  assert.deepEqual(await chargeAt(CP, io, RELAXED), { kind: "charged", ticket });
  assert.deepEqual(calls, [["requested", CP], ["authorized", auth]]);
  assert.equal(sent.length, 1);
});

Deno.test("summarize: counts by outcome and the totals of the tickets", () => {
  assert.equal(
    summarize(DRIVER, []),
    "SUMMARY D-1: 0 charged, 0 aborted, 0 denied, 0 not answered or given up; " +
      "0.000 kWh, 0.000 €",
  );
  const outcomes: Outcome[] = [
    { kind: "charged", ticket: ticketOf(1.5) },
    { kind: "charged", ticket: ticketOf(0.25, "ABORTED", "AVERIA") },
    { kind: "denied", denied: deniedFor({ id: "r-9" }) },
    { kind: "no_answer" },
    { kind: "lost" },
    { kind: "cancelled" },
  ];
  assert.equal(
    summarize(DRIVER, outcomes),
    "SUMMARY D-1: 1 charged, 1 aborted, 1 denied, 3 not answered or given up; " +
      "1.750 kWh, 0.700 €",
  );
});

Deno.test("summarize: the totals are rounded by the money rule", () => {
  const outcomes: Outcome[] = [
    { kind: "charged", ticket: { ...ticketOf(2.0145), importe_eur: 0.5005 } },
    { kind: "charged", ticket: { ...ticketOf(0.1), importe_eur: 0.2 } },
  ];
  // Each ticket as shown (2.015 + 0.1 kWh, 0.501 + 0.2 €), added up without float noise.
  assert.match(summarize(DRIVER, outcomes), /; 2\.115 kWh, 0\.701 €$/);
});

/** Fast ticks so that a test's waits last a few hundred milliseconds. */
const TICKING: FlowOptions = { answerTimeoutMs: 100, silenceTimeoutMs: 100, tickMs: 20 };

Deno.test("broker unreachable during a charge: never given up, however long; the ticket ends it", async () => {
  let reachable = true;
  const ticket = ticketOf(0.4);
  let unreachableTicks = 0;
  const { io, sent, calls } = rig((m, inbox) => {
    if (!isRequest(m)) return;
    inbox.push(authorizedFor(m));
    reachable = false; // the broker goes away right after the authorization
  }, (name) => {
    // Ten ticks of 20 ms unreachable: twice the silence timeout. Then Kafka is back with the
    // ticket produced meanwhile.
    if (name === "waitingFor" && calls.at(-1)?.[1] === "broker" && ++unreachableTicks === 10) {
      reachable = true;
      io.inbox.push(ticket);
    }
  });
  const outcome = await chargeAt(CP, { ...io, brokerReachable: () => reachable }, TICKING);
  assert.deepEqual(outcome, { kind: "charged", ticket });
  assert.ok(!calls.some(([name]) => name === "lost"), JSON.stringify(calls));
  assert.equal(unreachableTicks, 10);
  assert.deepEqual(sent.map((s) => s.message.type), ["CHARGE_REQUEST"]);
});

Deno.test("broker unreachable while waiting for the answer: the request is not given up", async () => {
  let reachable = false;
  let auth: Authorized | undefined;
  let ticks = 0;
  const ticket = ticketOf(0.1);
  const { io, sent, calls } = rig(() => {}, (name) => {
    if (name !== "waitingFor" || ++ticks !== 10) return;
    reachable = true;
    const request = sent[0].message;
    io.inbox.push(auth = authorizedFor(request));
    io.inbox.push(ticket);
  });
  const outcome = await chargeAt(CP, { ...io, brokerReachable: () => reachable }, TICKING);
  assert.deepEqual(outcome, { kind: "charged", ticket });
  assert.deepEqual(calls.filter(([name]) => name !== "waitingFor"), [
    ["requested", CP],
    ["authorized", auth],
  ]);
});

Deno.test("Central silent while the broker is reachable: said so, then given up after the silence counted", async () => {
  let reachable = false;
  let ticks = 0;
  const { io, sent, calls } = rig((m, inbox) => {
    if (isRequest(m)) inbox.push(authorizedFor(m));
  }, (name) => {
    // Unreachable for a while (not counted), then reachable and silent: given up.
    if (name === "waitingFor" && ++ticks === 10) reachable = true;
  });
  const outcome = await chargeAt(CP, { ...io, brokerReachable: () => reachable }, TICKING);
  assert.deepEqual(outcome, { kind: "lost" });
  const waits = calls.filter(([name]) => name === "waitingFor").map(([, cause]) => cause);
  assert.deepEqual(waits.slice(0, 10), Array(10).fill("broker"));
  assert.ok(waits.slice(10).every((cause) => cause === "central"), JSON.stringify(waits));
  assert.ok(ticks >= 10 + 4, `silence counted only once reachable (${ticks} ticks)`);
  assertRequestThenCancel(sent);
});

Deno.test("summarize: a charge counts its final ticket when one came, else its provisional one, marked", () => {
  const provisional = { ...ticketOf(0.1, "ABORTED", "TELEMETRY_TIMEOUT"), provisional: true };
  const final = ticketOf(0.5);
  const other = { ...ticketOf(0.2, "ABORTED", "CP_LOST", "s-2"), provisional: true };
  const outcomes: Outcome[] = [
    { kind: "charged", ticket: provisional },
    { kind: "charged", ticket: other },
  ];
  const latest = (session: string) => (session === SESSION ? final : undefined);
  assert.equal(
    summarize(DRIVER, outcomes, latest),
    "SUMMARY D-1: 1 charged, 1 aborted, 0 denied, 0 not answered or given up; " +
      "0.700 kWh, 0.280 € (1 ticket provisional)",
  );
});
