/**
 * One charge from the driver's side, as a sequence: request, wait for the answer, follow the
 * supply, wait for the ticket. I/O comes in through {@link DriverIO}, so the flow is tested
 * with fakes.
 *
 * @module
 */
import {
  type Authorized,
  type ControlMessage,
  type Denied,
  type RequestsMessage,
  stamp,
  type Telemetry,
  type TelemetryMessage,
  type Ticket,
} from "../shared/protocol/messages.ts";
import type { Inbox } from "./inbox.ts";

/** What the flow shows the driver. */
export interface DriverView {
  requested(cpId: string): void;
  authorized(a: Authorized): void;
  denied(d: Denied): void;
  progress(t: Telemetry, a: Authorized): void;
  ticket(t: Ticket): void;
  noAnswer(cpId: string, seconds: number): void;
  lost(cpId: string, seconds: number): void;
}

/** What the flow needs from the outside. */
export interface DriverIO {
  driverId: string;
  send(message: RequestsMessage, key: string): Promise<void>;
  inbox: Inbox<ControlMessage | TelemetryMessage>;
  view: DriverView;
}

/** Timeouts of a charge. */
export interface FlowOptions {
  /** How long to wait for AUTHORIZED/DENIED. */
  answerTimeoutMs: number;
  /** How long without telemetry or ticket before giving the charge up. */
  silenceTimeoutMs: number;
}

/** How a charge went. */
export type Outcome =
  | { kind: "charged"; ticket: Ticket }
  | { kind: "denied"; denied: Denied }
  | { kind: "no_answer" }
  | { kind: "lost" }
  | { kind: "cancelled" };

/** Requests a charge at `cpId` and follows it to its end. */
export async function chargeAt(
  cpId: string,
  io: DriverIO,
  options: FlowOptions,
  signal?: AbortSignal,
): Promise<Outcome> {
  const request = stamp({
    type: "CHARGE_REQUEST",
    driver_id: io.driverId,
    cp_id_solicitado: cpId,
  });
  const cancel = () =>
    io.send(
      stamp({ type: "CANCEL_REQUEST", driver_id: io.driverId, request_id: request.id }),
      cpId,
    );
  const answer = io.inbox.next(
    (m) => (m.type === "AUTHORIZED" || m.type === "DENIED") && m.request_id === request.id,
    options.answerTimeoutMs,
    signal,
  );
  await io.send(request, cpId);
  io.view.requested(cpId);
  const reply = await answer as Authorized | Denied | undefined;
  if (signal?.aborted) {
    await cancel();
    return { kind: "cancelled" };
  }
  if (!reply) {
    io.view.noAnswer(cpId, options.answerTimeoutMs / 1000);
    await cancel(); // so that a late authorization does not keep the CP busy
    return { kind: "no_answer" };
  }
  if (reply.type === "DENIED") {
    io.view.denied(reply);
    return { kind: "denied", denied: reply };
  }
  io.view.authorized(reply);
  const ours = (m: ControlMessage | TelemetryMessage) =>
    (m.type === "TELEMETRY" || m.type === "TICKET") && m.session_id === reply.session_id;
  while (true) {
    const m = await io.inbox.next(ours, options.silenceTimeoutMs, signal);
    if (signal?.aborted) {
      await cancel();
      // Central answers a cancel with the ticket of what was delivered.
      const t = await io.inbox.next((x) => x.type === "TICKET" && ours(x), 2000);
      if (t) io.view.ticket(t as Ticket);
      return { kind: "cancelled" };
    }
    if (!m) {
      io.view.lost(cpId, options.silenceTimeoutMs / 1000);
      await cancel();
      return { kind: "lost" };
    }
    if (m.type === "TICKET") {
      io.view.ticket(m);
      return { kind: "charged", ticket: m };
    }
    io.view.progress(m as Telemetry, reply);
  }
}

/** The closing line: charges completed, aborted, denied and unanswered, and the totals. */
export function summarize(driverId: string, outcomes: Outcome[]): string {
  const tickets = outcomes.flatMap((o) => (o.kind === "charged" ? [o.ticket] : []));
  const count = (kind: Outcome["kind"]) => outcomes.filter((o) => o.kind === kind).length;
  const ended = tickets.filter((t) => t.status === "ENDED").length;
  const kwh = tickets.reduce((sum, t) => sum + t.consumo_kwh, 0);
  const eur = tickets.reduce((sum, t) => sum + t.importe_eur, 0);
  const other = count("no_answer") + count("lost") + count("cancelled");
  return `SUMMARY ${driverId}: ${ended} charged, ${tickets.length - ended} aborted, ` +
    `${count("denied")} denied, ${other} not answered or given up; ` +
    `${kwh.toFixed(3)} kWh, ${eur.toFixed(3)} €`;
}
