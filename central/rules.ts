/**
 * Central's business rules, free of I/O: the charging points it knows, the facts about each,
 * the sessions running on them, and what every incoming event changes.
 *
 * A CP's state is never stored: it is derived from four independent facts (link, health,
 * operator, session), so no event can overwrite another's effect (a reconnect cannot wipe
 * PARADO, a fault cannot leave SUMINISTRANDO behind). Every method returns the
 * {@link Effect}s to carry out — rows to write, messages to send — and the caller performs
 * them, so each rule is testable without sockets, Kafka or a database.
 *
 * @module
 */
import { implausible } from "./plausibility.ts";
import type { IssuedKeys } from "./cp_keys.ts";
import {
  type CancelRequest,
  type ChargeRequest,
  type Command,
  type ControlMessage,
  DENY_TEXT,
  type DenyReason,
  type EndReason,
  type Health,
  isNormalEnd,
  type Register,
  stamp,
  type SupplyEnd,
  type Telemetry,
  type Ticket,
} from "../shared/protocol/messages.ts";
import { amountFor, formatEur, formatKwh, roundKwh } from "../shared/protocol/money.ts";

/** What the panel shows for a CP. */
export type CpState = "ACTIVADO" | "PARADO" | "SUMINISTRANDO" | "AVERIADO" | "DESCONECTADO";

/** What an authorization fixed about a session, and its figures so far. */
export interface SessionTerms {
  session_id: string;
  request_id: string;
  cp_id: string;
  driver_id: string;
  price_eur_kwh: number;
  started_at: number;
  consumo_kwh: number;
  importe_eur: number;
}

/** A session between authorization and its end. */
export interface RunningSession extends SessionTerms {
  /** Sequence number of the last telemetry applied (-1: none yet). */
  last_seq: number;
  /** When telemetry (or the authorization) last proved the supply alive. */
  last_seen_at: number;
}

/**
 * A session Central closed without the engine's word (watchdog, cancel, PARAR, AVERIA): its
 * figures are Central's last knowledge, provisional until the engine's own end settles it.
 */
export interface UnsettledSession extends SessionTerms {
  /** Central's last figures (consumo_kwh, importe_eur) are those of the provisional ticket. */
  /** Why Central closed it; STOP_SUPPLY is sent again with it. */
  reason: EndReason;
  ended_at: number;
}

/** Everything Central knows about one CP. */
export interface ChargingPoint {
  cp_id: string;
  location: string;
  price_eur_kwh: number;
  /** Whether its monitor's TCP link is up. */
  link: "up" | "down";
  /** The engine's health as its monitor last reported. */
  health: Health;
  /** Stopped by the operator (PARAR) until REANUDAR; survives restarts and reconnects. */
  stopped: boolean;
  session?: RunningSession;
  /**
   * Sessions closed here without the engine's word: until its end arrives, the engine may
   * still be supplying one of them, so the CP is not authorized again (DENIED SETTLING).
   */
  unsettled?: UnsettledSession[];
}

/** Derives the shown state; the first matching fact wins. */
export function shownState(cp: ChargingPoint): CpState {
  if (cp.link === "down") return "DESCONECTADO";
  if (cp.health === "KO") return "AVERIADO";
  if (cp.stopped) return "PARADO";
  if (cp.session) return "SUMINISTRANDO";
  return "ACTIVADO";
}

/** Every kind of event Central stores: one list, for the history's readers too. */
export const EVENT_KINDS = [
  "registered",
  "reconnected",
  "register_refused",
  "enrolled",
  "forgotten",
  "disconnected",
  "averia",
  "recovered",
  "authorized",
  "denied",
  "parar",
  "reanudar",
  "session_ended",
  "session_aborted",
  "session_settled",
] as const;
/** A kind of stored event. */
export type EventKind = typeof EVENT_KINDS[number];

/** A line for the events table. */
export interface NetworkEvent {
  at: number;
  cp_id?: string;
  session_id?: string;
  kind: string;
  detail: string;
}

/** Something the caller must do. */
export type Effect =
  | { kind: "save_cp"; cp: ChargingPoint }
  | { kind: "forget_cp"; cp_id: string }
  | { kind: "enrol"; cp: ChargingPoint; secret_hash: string }
  | { kind: "cp_key"; keys: IssuedKeys }
  | { kind: "deny"; request_id: string }
  | { kind: "open_session"; session: RunningSession }
  | { kind: "progress"; session: RunningSession }
  | { kind: "close_session"; ticket: Ticket }
  /** The engine's end settles a provisional row to its record (the final ticket's figures). */
  | { kind: "settle_session"; ticket: Ticket }
  | { kind: "event"; event: NetworkEvent }
  | { kind: "send"; message: ControlMessage }
  | { kind: "log"; level: "info" | "warn"; text: string };

/** The CP an effect is about, if any. */
export function effectCp(e: Effect): string | undefined {
  switch (e.kind) {
    case "save_cp":
    case "enrol":
      return e.cp.cp_id;
    case "open_session":
    case "progress":
      return e.session.cp_id;
    case "close_session":
    case "settle_session":
      return e.ticket.cp_id;
    case "forget_cp":
      return e.cp_id;
    case "cp_key":
      return e.keys.cp_id;
    case "event":
      return e.event.cp_id;
    case "send":
      return e.message.cp_id;
    case "deny":
    case "log":
      return undefined;
  }
}

/** Timeouts that rules depend on. */
export interface NetworkOptions {
  /** A request older than this when Central reads it is denied as EXPIRED. */
  requestTimeoutMs: number;
  /** A running session without telemetry for this long is closed ABORTED. */
  telemetryTimeoutMs: number;
}

/** The outcome of a registration. */
export type Registration =
  | { ok: true; known: boolean; cp: ChargingPoint; effects: Effect[] }
  | { ok: false; reason: string; effects: Effect[] };

/**
 * How many answered request ids are remembered (and reloaded at start) to drop the requests
 * Kafka hands back again.
 */
export const REMEMBERED_REQUESTS = 10_000;

/** The location of a CP enrolled by the operator before its monitor ever registered. */
export const NOT_REGISTERED_YET = "(not registered yet)";

/** While a session is unsettled, STOP_SUPPLY for it is sent again this often. */
export const STOP_RESEND_MS = 5000;

/** The driver id of a supply asked for locally at the CP (SUMINISTRAR), not by a driver. */
export function localDriver(cpId: string): string {
  return `local-${cpId}`;
}

/** Where a PARAR / REANUDAR came from: the history says who stopped a CP. */
export type CommandOrigin = "console" | "http" | "monitor";

const ORIGIN_TEXT: Record<CommandOrigin, string> = {
  console: "by the operator at Central's console",
  http: "by the operator through the HTTP API",
  monitor: "at the CP, from its monitor",
};

/** Why a CP cannot be forgotten now. */
export type ForgetRefusal = "UNKNOWN" | "CONNECTED" | "SUPPLYING";

/** The outcome of {@link ChargingNetwork.forget}. */
export type Forgetting =
  | { ok: true; effects: Effect[] }
  | { ok: false; refusal: ForgetRefusal; reason: string };

/** The outcome of a supply asked for at the CP itself. */
export interface LocalSupplyOutcome {
  effects: Effect[];
  /** Why it was refused, in plain words; absent when it was authorized. */
  refused?: string;
}

/** Central's state and rules. */
export class ChargingNetwork {
  readonly #cps = new Map<string, ChargingPoint>();
  #sorted?: ChargingPoint[];
  readonly #sessionsByDriver = new Map<string, RunningSession>();
  /** Running sessions by id: an engine's end is matched by the session it names. */
  readonly #running = new Map<string, RunningSession>();
  /** Unsettled sessions by id, with when STOP_SUPPLY was last sent for each. */
  readonly #unsettled = new Map<string, { session: UnsettledSession; stopSentAt: number }>();
  readonly #seenRequests = new Set<string>();

  constructor(readonly options: NetworkOptions) {}

  /**
   * Loads what the database holds, at start: every link is down until its monitor returns;
   * unsettled sessions get their STOP_SUPPLY again at the first {@link tick}.
   */
  load(
    cps: Omit<ChargingPoint, "link" | "session" | "unsettled">[],
    sessions: RunningSession[],
    servedRequestIds: string[] = [],
    unsettled: UnsettledSession[] = [],
  ): void {
    for (const id of servedRequestIds) this.#remember(id);
    for (const cp of cps) this.#cps.set(cp.cp_id, { ...cp, link: "down" });
    for (const s of sessions) {
      const cp = this.#cps.get(s.cp_id);
      if (!cp) continue;
      cp.session = { ...s };
      this.#sessionsByDriver.set(s.driver_id, cp.session);
      this.#running.set(s.session_id, cp.session);
      this.#remember(s.request_id);
    }
    for (const u of unsettled) this.#addUnsettled({ ...u }, -Infinity);
  }

  /** A CP by id. */
  get(cpId: string): ChargingPoint | undefined {
    return this.#cps.get(cpId);
  }

  /** All CPs, in id order (the same array until a CP is added: views read it often). */
  list(): readonly ChargingPoint[] {
    if (this.#sorted?.length !== this.#cps.size) {
      this.#sorted = [...this.#cps.values()].sort((a, b) =>
        a.cp_id < b.cp_id ? -1 : a.cp_id > b.cp_id ? 1 : 0
      );
    }
    return this.#sorted;
  }

  /** How many CPs are known. */
  get size(): number {
    return this.#cps.size;
  }

  /** A monitor registers (or comes back). */
  register(reg: Register, now: number): Registration {
    const existing = this.#cps.get(reg.cp_id);
    if (existing?.link === "up") {
      const reason = `CP ${reg.cp_id} is already connected from another monitor`;
      return {
        ok: false,
        reason,
        effects: [event(now, "register_refused", reason, reg.cp_id)],
      };
    }
    const cp: ChargingPoint = existing ?? {
      cp_id: reg.cp_id,
      location: reg.location,
      price_eur_kwh: reg.price_eur_kwh,
      link: "down",
      health: reg.health,
      stopped: false,
    };
    cp.location = reg.location;
    cp.price_eur_kwh = reg.price_eur_kwh;
    cp.link = "up";
    const effects: Effect[] = [
      { kind: "save_cp", cp },
      event(
        now,
        existing ? "reconnected" : "registered",
        `${existing ? "welcomed back" : "enrolled"} at ${cp.location}, ${cp.price_eur_kwh} €/kWh`,
        cp.cp_id,
      ),
    ];
    effects.push(...this.#setHealth(cp, reg.health, now));
    this.#cps.set(cp.cp_id, cp);
    return { ok: true, known: existing !== undefined, cp, effects };
  }

  /**
   * The operator sets a CP's secret (hashed by the caller), before its first registration or
   * to replace the old one.
   */
  enrol(cpId: string, secretHash: string, now: number): Effect[] {
    let cp = this.#cps.get(cpId);
    const effects: Effect[] = [];
    if (!cp) {
      cp = {
        cp_id: cpId,
        location: NOT_REGISTERED_YET,
        price_eur_kwh: 0,
        link: "down",
        health: "OK",
        stopped: false,
      };
      this.#cps.set(cpId, cp);
      // Stored whole: a row left by a forgotten CP of that id must not lend it its past.
      effects.push({ kind: "save_cp", cp });
    }
    effects.push(
      { kind: "enrol", cp, secret_hash: secretHash },
      event(now, "enrolled", "secret set by the operator", cpId),
    );
    return effects;
  }

  /**
   * The operator forgets a CP (a mistyped id enrolled without authentication, a CP taken
   * away): it leaves the live list, the panel and the next start, while its sessions and
   * events stay in the history. Only a CP whose monitor is not connected and that supplies
   * nothing: a running session must end with its ticket first. If a monitor registers with
   * that id later, it is enrolled as a new CP.
   */
  forget(cpId: string, now: number, origin: CommandOrigin): Forgetting {
    const cp = this.#cps.get(cpId);
    if (!cp) return { ok: false, refusal: "UNKNOWN", reason: `unknown CP "${cpId}"` };
    if (cp.link === "up") {
      return {
        ok: false,
        refusal: "CONNECTED",
        reason: `${cpId} is connected: stop its monitor first, then forget it`,
      };
    }
    if (cp.session || cp.unsettled?.length) {
      return {
        ok: false,
        refusal: "SUPPLYING",
        reason: cp.session
          ? `${cpId} has a running session (driver ${cp.session.driver_id}): ` +
            "it must end with its ticket first"
          : `${cpId} may still be supplying: its engine has not reported the end of ` +
            `session ${cp.unsettled![0].session_id} yet`,
      };
    }
    this.#cps.delete(cpId);
    this.#sorted = undefined;
    return {
      ok: true,
      effects: [
        { kind: "forget_cp", cp_id: cpId },
        event(now, "forgotten", `forgotten ${ORIGIN_TEXT[origin]}; its history stays`, cpId),
      ],
    };
  }

  /** A registration refused before it reached the rules (authentication). */
  refuse(cpId: string, reason: string, now: number): Effect[] {
    return [event(now, "register_refused", reason, this.#cps.has(cpId) ? cpId : undefined)];
  }

  /** A monitor's link closed or timed out. A running supply goes on while telemetry flows. */
  linkDown(cpId: string, now: number, why: string): Effect[] {
    const cp = this.#cps.get(cpId);
    if (!cp || cp.link === "down") return [];
    cp.link = "down";
    return [event(now, "disconnected", why, cpId, cp.session?.session_id)];
  }

  /** The monitor reports AVERIA (KO) or OK. */
  reportHealth(cpId: string, health: Health, now: number): Effect[] {
    const cp = this.#cps.get(cpId);
    return cp ? this.#setHealth(cp, health, now) : [];
  }

  #setHealth(cp: ChargingPoint, health: Health, now: number): Effect[] {
    if (cp.health === health) return [];
    cp.health = health;
    if (health === "OK") return [event(now, "recovered", "engine answers OK again", cp.cp_id)];
    const effects: Effect[] = [event(now, "averia", "engine fault reported by monitor", cp.cp_id)];
    if (cp.session) effects.push(...this.#stopSession(cp, "AVERIA", now));
    return effects;
  }

  /** A driver asks to charge. */
  request(req: ChargeRequest, now: number): Effect[] {
    if (this.#seenRequests.has(req.id)) {
      return [{ kind: "log", level: "info", text: `duplicate request ${req.id} ignored` }];
    }
    return this.#decide(req, now).effects;
  }

  /**
   * Someone at the CP starts a supply of `durationS` seconds (SUMINISTRAR): decided by the
   * same rules as a driver's request, for the CP's own local driver.
   */
  supplyLocally(cpId: string, durationS: number, now: number): LocalSupplyOutcome {
    const req = stamp({
      type: "CHARGE_REQUEST",
      driver_id: localDriver(cpId),
      cp_id_solicitado: cpId,
    }, now);
    const { effects, denied } = this.#decide(req, now, durationS);
    return denied ? { effects, refused: DENY_TEXT[denied] } : { effects };
  }

  #decide(
    req: ChargeRequest,
    now: number,
    durationS?: number,
  ): { effects: Effect[]; denied?: DenyReason } {
    this.#remember(req.id);
    const cp = this.#cps.get(req.cp_id_solicitado);
    const reason = this.#denyReason(req, cp, now);
    if (reason || !cp) {
      const denied = reason ?? "UNKNOWN_CP";
      return { effects: this.#deny(req, denied, now), denied };
    }
    const session: RunningSession = {
      session_id: crypto.randomUUID(),
      request_id: req.id,
      cp_id: cp.cp_id,
      driver_id: req.driver_id,
      price_eur_kwh: cp.price_eur_kwh,
      started_at: now,
      consumo_kwh: 0,
      importe_eur: 0,
      last_seq: -1,
      last_seen_at: now,
    };
    cp.session = session;
    this.#sessionsByDriver.set(session.driver_id, session);
    this.#running.set(session.session_id, session);
    const common = {
      cp_id: cp.cp_id,
      driver_id: session.driver_id,
      session_id: session.session_id,
      request_id: session.request_id,
      price_eur_kwh: session.price_eur_kwh,
    };
    const effects: Effect[] = [
      { kind: "open_session", session: { ...session } },
      event(
        now,
        "authorized",
        `driver ${session.driver_id} authorized`,
        cp.cp_id,
        session.session_id,
      ),
      {
        kind: "send",
        message: stamp({ type: "START_SUPPLY", ...common, duration_s: durationS }, now),
      },
      { kind: "send", message: stamp({ type: "AUTHORIZED", ...common }, now) },
    ];
    return { effects };
  }

  #denyReason(
    req: ChargeRequest,
    cp: ChargingPoint | undefined,
    now: number,
  ): DenyReason | undefined {
    if (now - req.ts > this.options.requestTimeoutMs) return "EXPIRED";
    if (!cp) return "UNKNOWN_CP";
    if (this.#sessionsByDriver.has(req.driver_id)) return "DRIVER_BUSY";
    const state = shownState(cp);
    if (state === "SUMINISTRANDO") return "BUSY";
    if (state !== "ACTIVADO") return state;
    if (cp.unsettled?.length) return "SETTLING";
    return undefined;
  }

  #deny(req: ChargeRequest, reason: DenyReason, now: number): Effect[] {
    const cpId = req.cp_id_solicitado;
    const known = this.#cps.has(cpId);
    return [
      // Stored, so that the request is not decided again when Kafka hands it back.
      { kind: "deny", request_id: req.id },
      event(
        now,
        "denied",
        `driver ${req.driver_id} asked for ${cpId}: ${reason}`,
        known ? cpId : undefined,
      ),
      {
        kind: "send",
        message: stamp({
          type: "DENIED",
          driver_id: req.driver_id,
          request_id: req.id,
          cp_id: cpId,
          reason,
          message: DENY_TEXT[reason],
        }, now),
      },
    ];
  }

  /** A driver gives up its request or ends its running charge. */
  cancel(msg: CancelRequest, now: number): Effect[] {
    const session = this.#sessionsByDriver.get(msg.driver_id);
    if (!session || session.request_id !== msg.request_id) {
      return [{ kind: "log", level: "info", text: `cancel of ${msg.request_id}: nothing running` }];
    }
    return this.#stopSession(this.#cps.get(session.cp_id)!, "DRIVER_CANCELLED", now);
  }

  /** Applies one telemetry reading to the session it names, if it is really that session's. */
  telemetry(t: Telemetry, now: number): Effect[] {
    const session = this.#matchingSession(t);
    if (typeof session === "string") return [{ kind: "log", level: "warn", text: session }];
    if (t.seq <= session.last_seq) {
      return [{
        kind: "log",
        level: "info",
        text: `stale telemetry #${t.seq} for ${t.cp_id} ignored`,
      }];
    }
    const kwh = roundKwh(t.consumo_kwh);
    if (kwh < session.consumo_kwh) {
      return [{ kind: "log", level: "warn", text: `decreasing telemetry for ${t.cp_id} ignored` }];
    }
    // Checked before its seq counts: a forged reading must not make the real ones stale.
    const why = implausible(t, session.started_at, session.price_eur_kwh, now);
    if (why) {
      return [{ kind: "log", level: "warn", text: `telemetry for ${t.cp_id} dropped: ${why}` }];
    }
    session.last_seq = t.seq;
    this.#bill(session, kwh);
    session.last_seen_at = now;
    // The live session, not a copy: a copy per reading lived until the next save, a second
    // or so, and 10,000 a second of them filled the old heap and its collector.
    return [{ kind: "progress", session }];
  }

  // SETTLEMENT. Invariant (I1): a session's row and its final ticket equal the engine's
  // record of it: its kWh, € = amountFor(kWh, the session's price), its end reason and, when
  // it gives one, its end time. Central's own close (watchdog, cancel, PARAR, AVERIA) is only
  // provisional: the row says so, the ticket says so, and the CP is not authorized again
  // until the engine's end arrives (I2: it may still be supplying). The first engine end
  // for a session makes it final; later ones are acknowledged and change nothing.

  /**
   * The engine reports the end of a supply, from its record: it closes a running session
   * final, or settles one Central closed provisionally (see the invariant above). Whatever
   * Central knew of it, the end is acknowledged (SUPPLY_END_ACK, through the outbox with its
   * effect), so the engine stops sending it; only an end that names a session open here for
   * another CP or driver is refused and not acknowledged, lest a wrong message silence the
   * resends of the engine that really holds it.
   */
  supplyEnd(end: SupplyEnd, now: number): Effect[] {
    const running = this.#running.get(end.session_id);
    const unsettled = this.#unsettled.get(end.session_id)?.session;
    const known = running ?? unsettled;
    if (known && (known.cp_id !== end.cp_id || known.driver_id !== end.driver_id)) {
      return [{
        kind: "log",
        level: "warn",
        text: `supply_end from ${end.cp_id} (session ${end.session_id}, driver ${end.driver_id}) ` +
          `ignored: that session is ${known.cp_id}'s, for driver ${known.driver_id}`,
      }];
    }
    const ack: Effect = {
      kind: "send",
      message: stamp({ type: "SUPPLY_END_ACK", cp_id: end.cp_id, session_id: end.session_id }, now),
    };
    if (running) return [...this.#close(this.#cps.get(running.cp_id)!, end.reason, now, end), ack];
    if (unsettled) return [...this.#settle(unsettled, end, now), ack];
    return [
      {
        kind: "log",
        level: "info",
        text: `supply_end from ${end.cp_id} (session ${end.session_id}): already final or ` +
          "unknown here, acknowledged",
      },
      ack,
    ];
  }

  #settle(u: UnsettledSession, end: SupplyEnd, now: number): Effect[] {
    this.#unsettled.delete(u.session_id);
    const cp = this.#cps.get(u.cp_id);
    if (cp?.unsettled) {
      cp.unsettled = cp.unsettled.filter((x) => x.session_id !== u.session_id);
      if (cp.unsettled.length === 0) cp.unsettled = undefined;
    }
    const ticket = ticketFor(
      u,
      roundKwh(end.consumo_kwh),
      end.reason,
      end.ended_at ?? u.ended_at,
      now,
    );
    return [
      { kind: "settle_session", ticket },
      event(
        now,
        "session_settled",
        `${end.reason}: ${formatKwh(ticket.consumo_kwh)} kWh, ${formatEur(ticket.importe_eur)} € ` +
          `by the engine's record (provisional ${u.reason}: ${formatKwh(u.consumo_kwh)} kWh, ` +
          `${formatEur(u.importe_eur)} €)`,
        u.cp_id,
        u.session_id,
      ),
      { kind: "send", message: ticket },
    ];
  }

  #addUnsettled(u: UnsettledSession, stopSentAt: number): void {
    this.#unsettled.set(u.session_id, { session: u, stopSentAt });
    const cp = this.#cps.get(u.cp_id);
    if (cp) (cp.unsettled ??= []).push(u);
  }

  // Central bills by the money rule (shared/protocol/money.ts) at the price it authorized: the
  // engine's own € is not trusted, and a ticket's € is reproducible from its kWh and price.
  #bill(session: RunningSession, kwh: number): void {
    if (kwh === session.consumo_kwh) return;
    session.consumo_kwh = kwh;
    session.importe_eur = amountFor(kwh, session.price_eur_kwh);
  }

  #matchingSession(t: Telemetry): RunningSession | string {
    const session = this.#cps.get(t.cp_id)?.session;
    const what = () => `${t.type.toLowerCase()} from ${t.cp_id} (session ${t.session_id})`;
    if (!session) return `${what()} ignored: no running session there`;
    if (session.session_id !== t.session_id) return `${what()} ignored: not the running session`;
    if (session.driver_id !== t.driver_id) return `${what()} ignored: wrong driver ${t.driver_id}`;
    return session;
  }

  /** The operator, or someone at the CP, stops (PARAR) or resumes (REANUDAR) one CP or all. */
  command(type: Command["type"], target: string, now: number, origin: CommandOrigin): Effect[] {
    const cps = target === "all" ? this.list() : [this.#cps.get(target)].filter((c) => !!c);
    const effects: Effect[] = [];
    for (const cp of cps) {
      const stopped = type === "PARAR";
      effects.push({ kind: "send", message: stamp({ type, cp_id: cp.cp_id }, now) });
      if (cp.stopped === stopped) continue;
      cp.stopped = stopped;
      effects.push(
        { kind: "save_cp", cp },
        event(
          now,
          stopped ? "parar" : "reanudar",
          `${stopped ? "stopped" : "resumed"} ${ORIGIN_TEXT[origin]}`,
          cp.cp_id,
        ),
      );
      // PARAR itself makes the engine stop, so no STOP_SUPPLY is sent with it.
      if (stopped && cp.session) effects.push(...this.#close(cp, "PARAR", now));
    }
    return effects;
  }

  /** Gives every running session a full telemetry timeout from `now` (after an outage). */
  restartWatchdog(now: number): void {
    for (const cp of this.#cps.values()) if (cp.session) cp.session.last_seen_at = now;
  }

  /**
   * Closes sessions whose telemetry stopped, and sends STOP_SUPPLY again for each unsettled
   * session every {@link STOP_RESEND_MS} (an engine cut off when it was first sent hears it
   * once back, and answers with its end). Call every second or so.
   */
  tick(now: number): Effect[] {
    const effects: Effect[] = [];
    for (const cp of this.#cps.values()) {
      if (cp.session && now - cp.session.last_seen_at > this.options.telemetryTimeoutMs) {
        effects.push(...this.#stopSession(cp, "TELEMETRY_TIMEOUT", now));
      }
    }
    for (const entry of this.#unsettled.values()) {
      if (now - entry.stopSentAt < STOP_RESEND_MS) continue;
      entry.stopSentAt = now;
      effects.push({ kind: "send", message: stopSupply(entry.session, entry.session.reason, now) });
    }
    return effects;
  }

  /** Ends a running session and tells the engine to stop supplying it. */
  #stopSession(cp: ChargingPoint, reason: EndReason, now: number): Effect[] {
    const session = cp.session!;
    return [...this.#close(cp, reason, now), {
      kind: "send",
      message: stopSupply(session, reason, now),
    }];
  }

  /**
   * Closes the CP's session: final with the engine's record when `end` is given, otherwise
   * provisional with what Central last knew was delivered (unsettled until the engine's end).
   */
  #close(cp: ChargingPoint, reason: EndReason, now: number, end?: SupplyEnd): Effect[] {
    const s = cp.session!;
    cp.session = undefined;
    this.#sessionsByDriver.delete(s.driver_id);
    this.#running.delete(s.session_id);
    // A session restored from a database written before the money rule is billed by it too.
    const kwh = roundKwh(end ? end.consumo_kwh : s.consumo_kwh);
    const endedAt = end?.ended_at ?? now;
    const ticket = ticketFor(s, kwh, reason, endedAt, now, !end);
    s.consumo_kwh = ticket.consumo_kwh;
    s.importe_eur = ticket.importe_eur;
    if (!end) {
      const { session_id, request_id, cp_id, driver_id, price_eur_kwh, started_at } = s;
      this.#addUnsettled({
        session_id,
        request_id,
        cp_id,
        driver_id,
        price_eur_kwh,
        started_at,
        consumo_kwh: ticket.consumo_kwh,
        importe_eur: ticket.importe_eur,
        reason,
        ended_at: endedAt,
      }, now);
    }
    return [
      { kind: "close_session", ticket },
      event(
        now,
        ticket.status === "ENDED" ? "session_ended" : "session_aborted",
        `${reason}: ${formatKwh(ticket.consumo_kwh)} kWh, ${formatEur(ticket.importe_eur)} €` +
          (end ? "" : " (provisional until the engine reports its end)"),
        s.cp_id,
        s.session_id,
      ),
      { kind: "send", message: ticket },
    ];
  }

  #remember(requestId: string): void {
    this.#seenRequests.add(requestId);
    if (this.#seenRequests.size > REMEMBERED_REQUESTS) {
      this.#seenRequests.delete(this.#seenRequests.values().next().value!);
    }
  }
}

/**
 * The ticket of a session ended for `reason` with `kwh` delivered, billed by the money rule
 * at the session's price; `provisional` when Central closed it without the engine's word.
 */
function ticketFor(
  s: Omit<UnsettledSession, "consumo_kwh" | "importe_eur" | "reason" | "ended_at">,
  kwh: number,
  reason: EndReason,
  endedAt: number,
  now: number,
  provisional = false,
): Ticket {
  return stamp({
    type: "TICKET",
    driver_id: s.driver_id,
    request_id: s.request_id,
    session_id: s.session_id,
    cp_id: s.cp_id,
    price_eur_kwh: s.price_eur_kwh,
    consumo_kwh: kwh,
    importe_eur: amountFor(kwh, s.price_eur_kwh),
    started_at: s.started_at,
    ended_at: endedAt,
    status: isNormalEnd(reason) ? "ENDED" : "ABORTED",
    reason,
    ...(provisional ? { provisional: true } : {}),
  }, now);
}

function stopSupply(
  s: { cp_id: string; session_id: string; driver_id: string },
  reason: EndReason,
  now: number,
): ControlMessage {
  const { cp_id, session_id, driver_id } = s;
  return stamp({ type: "STOP_SUPPLY", cp_id, session_id, driver_id, reason }, now);
}

function event(
  at: number,
  kind: EventKind,
  detail: string,
  cp_id?: string,
  session_id?: string,
): Effect {
  return { kind: "event", event: { at, kind, detail, cp_id, session_id } };
}
