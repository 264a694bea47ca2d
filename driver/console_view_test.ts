import assert from "node:assert/strict";
import { join } from "node:path";
import type { Authorized, Denied, Telemetry, Ticket } from "../shared/protocol/messages.ts";
import { type LogRecord, setSink } from "../shared/process/log.ts";
import { StatusLine } from "../shared/term/status_line.ts";
import { ConsoleView, type StatusSink } from "./console_view.ts";

/** A status line that records what it is given, as `print …` and `set …` entries. */
function recordingStatus(tty: boolean): StatusSink & { lines: string[] } {
  const lines: string[] = [];
  return {
    tty,
    lines,
    print: (line) => void lines.push(`print ${line}`),
    set: (text) => void lines.push(`set ${text}`),
  };
}

/** Marks colored text so that the tests see which part is colored, whatever the terminal. */
const tagged = (color: string, text: string) => `<${color}>${text}</${color}>`;
const plain = (_color: string, text: string) => text;

const authorized: Authorized = {
  type: "AUTHORIZED",
  id: "m-1",
  ts: 1_000,
  driver_id: "D-23",
  request_id: "r-1",
  cp_id: "CP-01",
  session_id: "s-1",
  price_eur_kwh: 0.4,
};
const denied: Denied = {
  type: "DENIED",
  id: "m-2",
  ts: 1_000,
  driver_id: "D-23",
  request_id: "r-1",
  cp_id: "CP-01",
  reason: "BUSY",
  message: "another driver is charging at this point",
};
const reading: Telemetry = {
  type: "TELEMETRY",
  id: "m-3",
  ts: 2_000,
  cp_id: "CP-01",
  driver_id: "D-23",
  session_id: "s-1",
  consumo_kwh: 0.0123,
  importe_eur: 0.005,
  seq: 1,
};
const ticket: Ticket = {
  type: "TICKET",
  id: "m-4",
  ts: 9_000,
  driver_id: "D-23",
  request_id: "r-1",
  session_id: "s-1",
  cp_id: "CP-01",
  price_eur_kwh: 0.4,
  consumo_kwh: 1.5,
  importe_eur: 0.6,
  started_at: Date.UTC(2025, 0, 2, 10, 0, 0),
  ended_at: Date.UTC(2025, 0, 2, 10, 1, 5),
  status: "ENDED",
  reason: "COMPLETED",
};

/** A view on a recording status line, a settable clock and a fresh tickets folder. */
async function rig(tty: boolean, paint = tty ? tagged : plain) {
  const status = recordingStatus(tty);
  const dir = await Deno.makeTempDir({ prefix: "tickets-" });
  const clock = { now: 0 };
  const view = new ConsoleView({ status, ticketsDir: dir, now: () => clock.now, paint });
  return {
    status,
    dir,
    clock,
    view,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("not on a terminal: one plain line per event, the ticket with its JSON", async () => {
  await using r = await rig(false);
  const { view, status, clock, dir } = r;
  view.requested("CP-01");
  clock.now = 10_000;
  view.authorized(authorized);
  clock.now = 10_000 + 65_999; // 1 min 5.999 s into the charge
  view.progress(reading);
  view.ticket(ticket);
  await view.saved();
  view.denied(denied);
  view.noAnswer("CP-02", 2);
  view.lost("CP-03", 30);
  assert.deepEqual(status.lines, [
    "print REQUEST CP-01: asking Central for a charge…",
    "print AUTHORIZED at CP-01: plug in (0.4 €/kWh)",
    "set CP-01: 0.012 kWh  0.005 €  01:05",
    "print TICKET CP-01: ENDED (COMPLETED) 1.500 kWh × 0.4 €/kWh = 0.600 € " +
    JSON.stringify(ticket),
    `print ticket saved to ${join(dir, "s-1.json")}`,
    "print DENIED at CP-01: another driver is charging at this point",
    "print NO ANSWER for CP-02 within 2 s; going on",
    "print LOST CP-03: no news for 30 s; giving up",
  ]);
});

Deno.test("on a terminal: colored lines, a ⚡ live line, a ticket without JSON that clears it", async () => {
  await using r = await rig(true);
  const { view, status, clock, dir } = r;
  view.requested("CP-01");
  clock.now = 10_000;
  view.authorized(authorized);
  clock.now = 13_000;
  view.progress(reading);
  view.ticket({ ...ticket, status: "ABORTED", reason: "AVERIA" });
  await view.saved();
  view.denied(denied);
  view.noAnswer("CP-02", 2);
  view.lost("CP-03", 30);
  assert.deepEqual(status.lines, [
    "print REQUEST CP-01: asking Central for a charge…",
    "print <green>AUTHORIZED at CP-01: plug in (0.4 €/kWh)</green>",
    "set ⚡ <green>CP-01: 0.012 kWh  0.005 €  00:03</green>",
    "print <yellow>TICKET CP-01: ABORTED (AVERIA) </yellow>1.500 kWh × 0.4 €/kWh = 0.600 €",
    "set ",
    `print ticket saved to ${join(dir, "s-1.json")}`,
    "print <red>DENIED at CP-01: another driver is charging at this point</red>",
    "print <yellow>NO ANSWER for CP-02 within 2 s; going on</yellow>",
    "print <yellow>LOST CP-03: no news for 30 s; giving up</yellow>",
  ]);
});

Deno.test("an ENDED ticket is green on a terminal", async () => {
  await using r = await rig(true);
  r.view.ticket(ticket);
  await r.view.saved();
  assert.equal(
    r.status.lines[0],
    "print <green>TICKET CP-01: ENDED (COMPLETED) </green>1.500 kWh × 0.4 €/kWh = 0.600 €",
  );
});

Deno.test("the pause: a countdown on the status, one WAIT line when not on a terminal", async () => {
  for (const tty of [false, true]) {
    await using r = await rig(tty);
    for (let left = 4; left > 0; left--) r.view.waiting(left, 4);
    r.view.waited();
    assert.deepEqual(r.status.lines, [
      "set next request in 4 s…",
      ...(tty ? [] : ["print WAIT 4 s before the next request"]),
      "set next request in 3 s…",
      "set next request in 2 s…",
      "set next request in 1 s…",
      // Once over, the countdown leaves the terminal's live line (a log has none to leave).
      ...(tty ? ["set "] : []),
    ], tty ? "terminal" : "not a terminal");
  }
});

Deno.test("the prompt: the live line on a terminal until answered, a line elsewhere", async () => {
  for (const tty of [false, true]) {
    await using r = await rig(tty);
    r.view.ask("CP id?");
    r.view.answered();
    r.view.say("that is not a CP id");
    r.view.summary("SUMMARY D-23: …");
    assert.deepEqual(
      r.status.lines,
      tty
        ? ["set CP id?", "set ", "print that is not a CP id", "set ", "print SUMMARY D-23: …"]
        : ["print CP id?", "print that is not a CP id", "print SUMMARY D-23: …"],
      tty ? "terminal" : "not a terminal",
    );
  }
});

Deno.test("through a real status line off a terminal, the lines the end-to-end tests match", async () => {
  const printed: string[] = [];
  const original = console.log;
  console.log = (line: string) => void printed.push(line);
  const dir = await Deno.makeTempDir({ prefix: "tickets-" });
  try {
    const status = new StatusLine("CHARGING", false);
    const view = new ConsoleView({ status, ticketsDir: dir, now: () => 0, paint: plain });
    view.authorized(authorized);
    view.progress({ ...reading, consumo_kwh: 0.01 });
    view.progress({ ...reading, consumo_kwh: 0.01 }); // unchanged: not repeated
    view.waiting(4, 4);
    view.ticket(ticket);
    await view.saved();
  } finally {
    console.log = original;
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(printed, [
    "AUTHORIZED at CP-01: plug in (0.4 €/kWh)",
    "CHARGING CP-01: 0.010 kWh  0.005 €  00:00",
    "CHARGING next request in 4 s…",
    "WAIT 4 s before the next request",
    `TICKET CP-01: ENDED (COMPLETED) 1.500 kWh × 0.4 €/kWh = 0.600 € ${JSON.stringify(ticket)}`,
    `ticket saved to ${join(dir, "s-1.json")}`,
  ]);
});

Deno.test("the ticket is saved as <session_id>.json: its fields without the envelope, and ISO times", async () => {
  await using r = await rig(false);
  r.view.ticket(ticket);
  await r.view.saved();
  const text = await Deno.readTextFile(join(r.dir, "s-1.json"));
  assert.equal(
    text,
    JSON.stringify(
      {
        driver_id: "D-23",
        request_id: "r-1",
        session_id: "s-1",
        cp_id: "CP-01",
        price_eur_kwh: 0.4,
        consumo_kwh: 1.5,
        importe_eur: 0.6,
        started_at: ticket.started_at,
        ended_at: ticket.ended_at,
        status: "ENDED",
        reason: "COMPLETED",
        started_at_iso: "2025-01-02T10:00:00.000Z",
        ended_at_iso: "2025-01-02T10:01:05.000Z",
      },
      null,
      2,
    ) + "\n",
  );
});

Deno.test("a ticket that cannot be saved is logged as an error, not thrown", async () => {
  const records: LogRecord[] = [];
  const previous = setSink((rec) => void records.push(rec));
  try {
    await using r = await rig(false);
    const missing = join(r.dir, "gone");
    const view = new ConsoleView({ status: r.status, ticketsDir: missing, paint: plain });
    view.ticket(ticket);
    await view.saved();
    assert.ok(!r.status.lines.some((l) => l.includes("ticket saved")), "no saved line");
    assert.equal(records.length, 1);
    assert.equal(records[0].level, "error");
    assert.match(records[0].message, /^cannot save the ticket to .*gone\/s-1\.json: /);
  } finally {
    setSink(previous);
  }
});

Deno.test("kWh and € are shown, printed and saved by the money rule", async () => {
  await using r = await rig(false);
  const { view, status, dir } = r;
  view.progress({ ...reading, consumo_kwh: 2.0145, importe_eur: 0.5005 });
  // A ticket with float noise, as a Central without the money rule sent them.
  const noisy = {
    ...ticket,
    price_eur_kwh: 0.5,
    consumo_kwh: 0.243055,
    importe_eur: 0.12152769999999999,
  };
  view.ticket(noisy);
  await view.saved();
  const clean = { ...noisy, consumo_kwh: 0.243, importe_eur: 0.122 };
  assert.deepEqual(status.lines, [
    "set CP-01: 2.015 kWh  0.501 €  00:00", // toFixed(3) alone: 2.014 and 0.500
    `print TICKET CP-01: ENDED (COMPLETED) 0.243 kWh × 0.5 €/kWh = 0.122 € ${
      JSON.stringify(clean)
    }`,
    `print ticket saved to ${join(dir, "s-1.json")}`,
  ]);
  const saved = JSON.parse(await Deno.readTextFile(join(dir, "s-1.json")));
  assert.equal(saved.consumo_kwh, 0.243);
  assert.equal(saved.importe_eur, 0.122);
});

Deno.test("a provisional ticket is marked and saved; the final one is shown as settled and saved over it", async () => {
  await using r = await rig(false);
  const provisional: Ticket = {
    ...ticket,
    status: "ABORTED",
    reason: "TELEMETRY_TIMEOUT",
    consumo_kwh: 0.1,
    importe_eur: 0.04,
    provisional: true,
  };
  r.view.ticket(provisional);
  const final: Ticket = { ...ticket, id: "m-5", consumo_kwh: 0.4, importe_eur: 0.16 };
  r.view.ticket(final, "settled"); // before the first save is done: saves keep their order
  await r.view.saved();
  const file = join(r.dir, "s-1.json");
  assert.deepEqual(r.status.lines, [
    "print TICKET CP-01: ABORTED (TELEMETRY_TIMEOUT) PROVISIONAL 0.100 kWh × 0.4 €/kWh = " +
    "0.040 € (Central's last figures; the CP's meter will settle it) " +
    JSON.stringify(provisional),
    "print TICKET CP-01: ENDED (COMPLETED) SETTLED 0.400 kWh × 0.4 €/kWh = 0.160 € " +
    JSON.stringify(final),
    `print ticket saved to ${file}`,
    `print ticket saved to ${file}`,
  ]);
  const saved = JSON.parse(await Deno.readTextFile(file));
  assert.equal(saved.consumo_kwh, 0.4);
  assert.equal(saved.provisional, undefined);
});

Deno.test("a ticket of an earlier run is marked as such, before its JSON, and saved", async () => {
  await using r = await rig(false);
  r.view.ticket(ticket, "new", true);
  await r.view.saved();
  const file = join(r.dir, "s-1.json");
  assert.deepEqual(r.status.lines, [
    "print TICKET CP-01: ENDED (COMPLETED) 1.500 kWh × 0.4 €/kWh = 0.600 € " +
    `(from an earlier run) ${JSON.stringify(ticket)}`,
    `print ticket saved to ${file}`,
  ]);
  assert.equal(JSON.parse(await Deno.readTextFile(file)).consumo_kwh, 1.5);
});

Deno.test("waiting without news: the broker unreachable or Central silent, said on the status line", async () => {
  {
    await using r = await rig(false);
    r.view.waitingFor("central", 1); // one quiet second between readings is no news
    r.view.waitingFor("broker", 0);
    r.view.waitingFor("broker", 0);
    r.view.waitingFor("central", 2);
    r.view.waitingFor("central", 3);
    assert.deepEqual(r.status.lines, [
      "set broker unreachable: waiting for Kafka (the charge is not given up)",
      "set broker unreachable: waiting for Kafka (the charge is not given up)",
      "set Central silent: waiting for news",
      "set Central silent: waiting for news",
    ]);
  }
  {
    await using r = await rig(true);
    r.view.waitingFor("broker", 0);
    r.view.waitingFor("central", 4);
    assert.deepEqual(r.status.lines, [
      "set <yellow>broker unreachable: waiting for Kafka (the charge is not given up)</yellow>",
      "set <yellow>Central silent for 4 s</yellow>",
    ]);
  }
});

Deno.test("waiting for final tickets after the last request: on the status line, one line off a terminal", async () => {
  await using r = await rig(false);
  r.view.settling(2);
  r.view.settling(2);
  r.view.settling(1);
  assert.deepEqual(r.status.lines, [
    "set waiting for 2 final tickets (provisional ones are settled by the CP's meter)",
    "set waiting for 2 final tickets (provisional ones are settled by the CP's meter)",
    "set waiting for 1 final ticket (provisional ones are settled by the CP's meter)",
  ]);
});
