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
import { formatEur, formatKwh, roundEur, roundKwh } from "../shared/protocol/money.ts";
import type { Inbox } from "./inbox.ts";

/**
 * Why a wait has no news yet: the broker cannot be reached (nothing can come, and the wait is
 * not counted), or it can and Central (or the engine) is silent.
 */
export type Silence = "broker" | "central";

/**
 * What the flow shows the driver. Tickets are not in it: they are shown as they arrive (see
 * ticket_desk.ts), also after the charge that waited for them is over.
 */
export interface DriverView {
  requested(cpId: string): void;
  authorized(a: Authorized): void;
  denied(d: Denied): void;
  progress(t: Telemetry, a: Authorized): void;
  /** A tick of a wait without news: why, and the silence counted so far. */
  waitingFor(cause: Silence, silentSeconds: number): void;
  noAnswer(cpId: string, seconds: number): void;
  lost(cpId: string, seconds: number): void;
}

/** What the flow needs from the outside. */
export interface DriverIO {
  driverId: string;
  send(message: RequestsMessage, key: string): Promise<void>;
  inbox: Inbox<ControlMessage | TelemetryMessage>;
  view: DriverView;
  /** Whether Kafka can be reached now; always, if not given. */
  brokerReachable?: () => boolean;
}

/** Timeouts of a charge. */
export interface FlowOptions {
  /** How long to wait for AUTHORIZED/DENIED. */
  answerTimeoutMs: number;
  /** How long without telemetry or ticket before giving the charge up. */
  silenceTimeoutMs: number;
  /** After a cancel on Ctrl+C, how long to wait for Central's last word; 2 s by default. */
  lastWordMs?: number;
  /** How often a wait looks at the broker's reachability; 1 s by default. */
  tickMs?: number;
}

/**
 * How a charge went. `charged` is any charge that ended with a ticket, ENDED or ABORTED
 * (also one the driver ended with Ctrl+C): what the driver shows, saves and counts agree.
 */
export type Outcome =
  | { kind: "charged"; ticket: Ticket }
  | { kind: "denied"; denied: Denied }
  | { kind: "no_answer" }
  | { kind: "lost" }
  | { kind: "cancelled" };

/** How long a Ctrl+C waits for Central's last word, unless told otherwise. */
/** How long a driver stopped by Ctrl+C still waits for Central's last word. */
export const LAST_WORD_MS = 2000;

/** How often a wait looks at the broker, unless told otherwise. */
const TICK_MS = 1000;

type Message = ControlMessage | TelemetryMessage;

/**
 * The next message that matches, or undefined after `limitMs` of silence counted only while
 * the broker is reachable: nothing can arrive while it is not, so that time proves nothing
 * about Central, and a charge or request is never given up for it. (The end of each tick
 * decides how it counts: a tick during which the broker came back is not counted.)
 */
async function awaitNews(
  io: DriverIO,
  match: (m: Message) => boolean,
  limitMs: number,
  options: FlowOptions,
  signal?: AbortSignal,
): Promise<Message | undefined> {
  const tick = options.tickMs ?? TICK_MS;
  let silentMs = 0;
  while (true) {
    const started = Date.now();
    const m = await io.inbox.next(match, Math.min(tick, limitMs - silentMs), signal);
    if (m || signal?.aborted) return m;
    const reachable = io.brokerReachable?.() ?? true;
    if (reachable) silentMs += Date.now() - started;
    if (silentMs >= limitMs) return undefined;
    io.view.waitingFor(reachable ? "central" : "broker", Math.floor(silentMs / 1000));
  }
}

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
  /** Shows how the request ended and returns it as the outcome. */
  const finish = (m: Ticket | Denied): Outcome => {
    if (m.type === "DENIED") {
      io.view.denied(m);
      return { kind: "denied", denied: m };
    }
    return { kind: "charged", ticket: m };
  };
  /**
   * Ctrl+C: cancels, then waits briefly for Central's last word — the ticket of what was
   * delivered, or a denial it had already sent — so the outcome agrees with it.
   */
  const giveUp = async (lastWord: (m: Message) => boolean) => {
    await cancel();
    const m = await io.inbox.next(lastWord, options.lastWordMs ?? LAST_WORD_MS);
    return m ? finish(m as Ticket | Denied) : { kind: "cancelled" } as const;
  };
  const answer = awaitNews(
    io,
    (m) => (m.type === "AUTHORIZED" || m.type === "DENIED") && m.request_id === request.id,
    options.answerTimeoutMs,
    options,
    signal,
  );
  await io.send(request, cpId);
  io.view.requested(cpId);
  const reply = await answer as Authorized | Denied | undefined;
  if (reply?.type === "DENIED") return finish(reply);
  if (signal?.aborted) {
    // The answer may still be on its way; an authorization is ended by the cancel and its
    // ticket names this request.
    return await giveUp((m) =>
      (m.type === "TICKET" || m.type === "DENIED") && m.request_id === request.id
    );
  }
  if (!reply) {
    io.view.noAnswer(cpId, options.answerTimeoutMs / 1000);
    await cancel(); // so that a late authorization does not keep the CP busy
    return { kind: "no_answer" };
  }
  io.view.authorized(reply);
  const ours = (m: Message) =>
    (m.type === "TELEMETRY" || m.type === "TICKET") && m.session_id === reply.session_id;
  while (true) {
    const m = await awaitNews(io, ours, options.silenceTimeoutMs, options, signal);
    // A ticket that is in is the end, Ctrl+C or not: there is nothing left to cancel.
    if (m?.type === "TICKET") return finish(m);
    if (signal?.aborted) return await giveUp((x) => x.type === "TICKET" && ours(x));
    if (!m) {
      io.view.lost(cpId, options.silenceTimeoutMs / 1000);
      await cancel();
      return { kind: "lost" };
    }
    io.view.progress(m as Telemetry, reply);
  }
}

/**
 * The closing line: charges completed, aborted, denied and unanswered, and the totals. A
 * charge counts the ticket `latest` gives for its session (the final one, when it came after
 * the provisional one the charge ended with); those still provisional are said to be.
 */
export function summarize(
  driverId: string,
  outcomes: Outcome[],
  latest: (sessionId: string) => Ticket | undefined = () => undefined,
): string {
  const tickets = outcomes.flatMap((o) =>
    o.kind === "charged" ? [latest(o.ticket.session_id) ?? o.ticket] : []
  );
  const count = (kind: Outcome["kind"]) => outcomes.filter((o) => o.kind === kind).length;
  const ended = tickets.filter((t) => t.status === "ENDED").length;
  const provisional = tickets.filter((t) => t.provisional).length;
  // Each ticket as shown, added up; the totals are rounded again only to drop float noise.
  const kwh = tickets.reduce((sum, t) => sum + roundKwh(t.consumo_kwh), 0);
  const eur = tickets.reduce((sum, t) => sum + roundEur(t.importe_eur), 0);
  const other = count("no_answer") + count("lost") + count("cancelled");
  return `SUMMARY ${driverId}: ${ended} charged, ${tickets.length - ended} aborted, ` +
    `${count("denied")} denied, ${other} not answered or given up; ` +
    `${formatKwh(kwh)} kWh, ${formatEur(eur)} €` +
    (provisional > 0 ? ` (${provisional} ticket${provisional > 1 ? "s" : ""} provisional)` : "");
}
