/**
 * The engine's rules, free of I/O: which CP it serves, whether it is faulty or stopped by
 * the operator, the supply in progress, and its record (meter_record.ts) — the truth about
 * what it delivered. Each event returns {@link Effects}: the record lines to make durable,
 * then the telemetry to send (main.ts writes before it sends).
 *
 * @module
 */
import {
  type ControlMessage,
  type EndReason,
  type Health,
  stamp,
  type StopSupply,
  type SupplyEnd,
  type TelemetryMessage,
} from "../shared/protocol/messages.ts";
import { amountFor } from "../shared/protocol/money.ts";
import {
  type EndLine,
  endMessage,
  meterLine,
  type RecordLine,
  type Replay,
} from "./meter_record.ts";
import { Supply } from "./supply.ts";

/** The engine's settings. */
export interface EngineOptions {
  powerKw: number;
  durationS: number;
  /** START_SUPPLY orders older than this are stale (sent before a restart) and ignored. */
  staleMs: number;
  /**
   * A supply ends on its own (CONNECTION_LOST) once the monitor's checks or Kafka have been
   * silent this long; absent, never (a fleet simulator has no links to lose).
   */
  autonomyMs?: number;
}

/** What an event asks of the world: first make `record` durable, then send `send`. */
export interface Effects {
  record: RecordLine[];
  send: TelemetryMessage[];
}

/** The links whose silence makes the engine stop supplying on its own. */
export type Link = "monitor" | "kafka";

/** The driver of a session the engine never had, when Central's STOP_SUPPLY names none. */
export const UNKNOWN_DRIVER = "unknown";

/** What the engine shows. */
export type EngineState =
  | "ESPERANDO_MONITOR"
  | "ACTIVADO"
  | "PARADO"
  | "SUMINISTRANDO"
  | "AVERIADO";

/** Acknowledged ends kept in memory (older ones stay in the record file). */
const MAX_ACKED = 1000;

const none = (): Effects => ({ record: [], send: [] });

/** One charging point's engine. */
export class Engine {
  #cpId?: string;
  #fault = false;
  #stopped = false;
  #supply?: Supply;
  /** Every session in the record: a START_SUPPLY for one of them is never a new supply. */
  readonly #known = new Set<string>();
  /** Ends Central has not acknowledged yet: sent again until it does. */
  readonly #unacked = new Map<string, EndLine>();
  /** Ends acknowledged, kept so a STOP_SUPPLY for them gets the same answer. */
  readonly #acked = new Map<string, EndLine>();
  readonly #heard = new Map<Link, number>();
  /** Orders sent before this were dealt with before the restart (or predate the engine). */
  #since = -Infinity;

  constructor(readonly options: EngineOptions) {}

  /** The CP id learned from the monitor. */
  get cpId(): string | undefined {
    return this.#cpId;
  }

  /** The supply in progress. */
  get supply(): Supply | undefined {
    return this.#supply;
  }

  /** What a status line shows. */
  get state(): EngineState {
    if (!this.#cpId) return "ESPERANDO_MONITOR";
    if (this.#fault) return "AVERIADO";
    if (this.#stopped) return "PARADO";
    return this.#supply ? "SUMINISTRANDO" : "ACTIVADO";
  }

  /** The answer to the monitor's health check. */
  health(): Health {
    return this.#fault ? "KO" : "OK";
  }

  /** The monitor tells the engine its CP id; an engine serves one CP only. */
  claim(cpId: string): boolean {
    this.#cpId ??= cpId;
    return this.#cpId === cpId;
  }

  /** A sign of life from `link` (a health check; a Kafka fetch) at `now`. */
  heard(link: Link, now: number): void {
    this.#heard.set(link, now);
  }

  /**
   * Why the engine counts itself cut off at `now` (a link heard once, silent for the autonomy
   * time), or undefined. A link never heard does not count: nothing was started through it.
   */
  isolation(now: number): string | undefined {
    const limit = this.options.autonomyMs;
    if (limit === undefined) return undefined;
    const silent = (link: Link) => {
      const last = this.#heard.get(link);
      return last !== undefined && now - last >= limit ? Math.floor((now - last) / 1000) : 0;
    };
    const monitor = silent("monitor");
    if (monitor) return `no health check from its monitor for ${monitor} s`;
    const kafka = silent("kafka");
    return kafka ? `no contact with Kafka for ${kafka} s` : undefined;
  }

  /**
   * Takes back what a record says at start: a supply that was cut short ends, ENGINE_RESTART,
   * at its last meter reading; every end not acknowledged is sent again. Orders older than the
   * record's last line (by the stale time), or than `now` for an empty record, are ignored:
   * a new consumer group reads control_topic from its oldest message.
   */
  restore(replay: Replay, now: number): Effects {
    const out = none();
    this.#since = (replay.lastAt ?? now) - this.options.staleMs;
    for (const [sessionId, s] of replay.sessions) {
      this.#known.add(sessionId);
      let end = s.end;
      if (!end && s.start) {
        const kwh = s.lastMeter?.consumo_kwh ?? 0;
        end = {
          kind: "end",
          session_id: sessionId,
          cp_id: s.start.cp_id,
          driver_id: s.start.driver_id,
          consumo_kwh: kwh,
          importe_eur: amountFor(kwh, s.start.price_eur_kwh),
          reason: "ENGINE_RESTART",
          ended_at: s.lastMeter?.at ?? s.start.at,
        };
        out.record.push(end);
      }
      if (!end) continue; // readings without a start: nothing to bill them to
      if (s.acked) this.#acked.set(sessionId, end);
      else {
        this.#unacked.set(sessionId, end);
        out.send.push(endMessage(end, now));
      }
    }
    return out;
  }

  /** The ends still waiting for Central's acknowledgement, as messages to send again. */
  unackedEnds(now: number): SupplyEnd[] {
    return [...this.#unacked.values()].map((end) => endMessage(end, now));
  }

  /** Turns the simulated fault on or off. A faulty engine stops supplying. */
  fault(on: boolean, now: number): Effects {
    this.#fault = on;
    return on ? this.#end("AVERIA", now) : none();
  }

  /** Whether the fault is being simulated. */
  get faulty(): boolean {
    return this.#fault;
  }

  /** The driver unplugs: the supply ends normally. */
  unplugged(now: number): Effects {
    return this.#end("UNPLUGGED", now);
  }

  /** Applies an order from Central; ignores orders for other CPs and from before the record. */
  handle(msg: ControlMessage, now: number): Effects {
    if (msg.ts < this.#since) return none();
    if (msg.type === "SUPPLY_END_ACK") return this.#ack(msg.cp_id, msg.session_id, now);
    if (!this.#cpId || !("cp_id" in msg) || msg.cp_id !== this.#cpId) return none();
    switch (msg.type) {
      case "START_SUPPLY": {
        if (this.#supply || this.#fault || this.#known.has(msg.session_id)) return none();
        if (now - msg.ts > this.options.staleMs || this.isolation(now)) return none();
        this.#stopped = false;
        this.#supply = new Supply({
          ...msg,
          powerKw: this.options.powerKw,
          durationS: msg.duration_s ?? this.options.durationS,
        });
        this.#known.add(msg.session_id);
        const { session_id, driver_id, price_eur_kwh } = msg;
        return {
          record: [{
            kind: "start",
            session_id,
            cp_id: msg.cp_id,
            driver_id,
            price_eur_kwh,
            at: now,
          }],
          send: [],
        };
      }
      case "STOP_SUPPLY":
        return this.#stop(msg, now);
      case "PARAR":
        this.#stopped = true;
        return this.#end("PARAR", now);
      case "REANUDAR":
        this.#stopped = false;
        return none();
      default:
        return none();
    }
  }

  /**
   * One second passes at `now`: telemetry for the supply and its end when complete — or,
   * cut off for the autonomy time, the supply ends CONNECTION_LOST.
   */
  second(now: number): Effects {
    if (!this.#supply) return none();
    if (this.isolation(now)) return this.#end("CONNECTION_LOST", now);
    const reading = this.#supply.tick();
    const plan = this.#supply.plan;
    const t = stamp({
      type: "TELEMETRY",
      cp_id: this.#cpId!,
      driver_id: plan.driver_id,
      session_id: plan.session_id,
      ...reading,
    }, now);
    const meter = { record: [meterLine(t)], send: [t] as TelemetryMessage[] };
    if (!this.#supply.complete) return meter;
    const end = this.#end("COMPLETED", now);
    return { record: [...meter.record, ...end.record], send: [...meter.send, ...end.send] };
  }

  // The fleet simulator (scripts/fleet.ts) keeps no record: it only sends.

  /** {@link handle}'s messages only, for a simulator that keeps no record. */
  control(msg: ControlMessage, now: number): TelemetryMessage[] {
    return this.handle(msg, now).send;
  }

  /** {@link fault}'s messages only, for a simulator that keeps no record. */
  setFault(on: boolean): TelemetryMessage[] {
    return this.fault(on, Date.now()).send;
  }

  /** {@link unplugged}'s messages only, for a simulator that keeps no record. */
  unplug(): TelemetryMessage[] {
    return this.unplugged(Date.now()).send;
  }

  /** {@link second}'s messages only, for a simulator that keeps no record. */
  tick(): TelemetryMessage[] {
    return this.second(Date.now()).send;
  }

  #ack(cpId: string, sessionId: string, now: number): Effects {
    const end = this.#unacked.get(sessionId);
    if (!end || end.cp_id !== cpId) return none();
    this.#unacked.delete(sessionId);
    this.#acked.set(sessionId, end);
    // Central asks again about an acknowledged end only after losing it; the newest suffice.
    if (this.#acked.size > MAX_ACKED) this.#acked.delete(this.#acked.keys().next().value!);
    return { record: [{ kind: "acked", session_id: sessionId, at: now }], send: [] };
  }

  #stop(msg: StopSupply, now: number): Effects {
    const sessionId = msg.session_id;
    if (this.#supply?.plan.session_id === sessionId) return this.#end(msg.reason, now);
    const ended = this.#unacked.get(sessionId) ?? this.#acked.get(sessionId);
    if (ended) return { record: [], send: [endMessage(ended, now)] };
    if (this.#known.has(sessionId)) return none();
    // Never had it: say so, and never start it afterwards (Central gave it up).
    this.#known.add(sessionId);
    const end: EndLine = {
      kind: "end",
      session_id: sessionId,
      cp_id: this.#cpId!,
      driver_id: msg.driver_id ?? UNKNOWN_DRIVER,
      consumo_kwh: 0,
      importe_eur: 0,
      reason: "NOT_SUPPLIED",
      ended_at: now,
    };
    this.#unacked.set(sessionId, end);
    return { record: [end], send: [endMessage(end, now)] };
  }

  #end(reason: EndReason, now: number): Effects {
    const supply = this.#supply;
    if (!supply) return none();
    this.#supply = undefined;
    const { seq: _seq, ...reading } = supply.reading();
    const end: EndLine = {
      kind: "end",
      cp_id: this.#cpId!,
      driver_id: supply.plan.driver_id,
      session_id: supply.plan.session_id,
      ...reading,
      reason,
      ended_at: now,
    };
    this.#unacked.set(end.session_id, end);
    return { record: [end], send: [endMessage(end, now)] };
  }
}
