import assert from "node:assert/strict";
import { stamp, type Ticket } from "../shared/protocol/messages.ts";
import { TicketDesk } from "./ticket_desk.ts";

function ticket(session: string, kwh: number, provisional?: boolean): Ticket {
  return stamp({
    type: "TICKET",
    driver_id: "D-1",
    request_id: `r-${session}`,
    session_id: session,
    cp_id: "CP-01",
    price_eur_kwh: 0.5,
    consumo_kwh: kwh,
    importe_eur: kwh * 0.5,
    started_at: 1_000,
    ended_at: 5_000,
    status: "ABORTED",
    reason: "TELEMETRY_TIMEOUT",
    ...(provisional === undefined ? {} : { provisional }),
  });
}

Deno.test("a final ticket: new, then its repeats are duplicates (same id or same session)", () => {
  const desk = new TicketDesk();
  const t = ticket("s-1", 1);
  assert.equal(desk.receive(t), "new");
  assert.equal(desk.receive(t), "duplicate");
  assert.equal(desk.receive({ ...ticket("s-1", 1), provisional: false }), "duplicate");
  assert.equal(desk.latest("s-1"), t);
  assert.equal(desk.unsettled(), 0);
});

Deno.test("a provisional ticket is settled once by the final one, whenever it comes", () => {
  const desk = new TicketDesk();
  const provisional = ticket("s-1", 0.1, true);
  assert.equal(desk.receive(provisional), "new");
  assert.equal(desk.unsettled(), 1);
  assert.equal(desk.receive(provisional), "duplicate");
  assert.equal(desk.receive(ticket("s-1", 0.2, true)), "duplicate", "no second provisional");
  assert.equal(desk.receive(ticket("s-2", 3)), "new", "another session meanwhile");
  const final = ticket("s-1", 0.4);
  assert.equal(desk.receive(final), "settled");
  assert.equal(desk.latest("s-1"), final);
  assert.equal(desk.unsettled(), 0);
  assert.equal(desk.receive(final), "duplicate");
  assert.equal(desk.receive(ticket("s-1", 0.4)), "duplicate", "the same final again");
  assert.equal(desk.receive(ticket("s-1", 0.1, true)), "duplicate", "a late provisional");
  assert.equal(desk.latest("s-1"), final);
});

Deno.test("a final ticket that comes before the provisional one is not undone by it", () => {
  const desk = new TicketDesk();
  const final = ticket("s-1", 0.4);
  assert.equal(desk.receive(final), "new");
  assert.equal(desk.receive(ticket("s-1", 0.1, true)), "duplicate");
  assert.equal(desk.latest("s-1"), final);
});
