/**
 * The engine's rules, free of I/O: which CP it serves, whether it is faulty or stopped by
 * the operator, and the supply in progress. Methods return the telemetry to send.
 *
 * @module
 */
import {
  type ControlMessage,
  type EndReason,
  type Health,
  stamp,
  type SupplyEnd,
  type Telemetry,
  type TelemetryMessage,
} from "../shared/protocol/messages.ts";
import { Supply } from "./supply.ts";

/** The engine's settings. */
export interface EngineOptions {
  powerKw: number;
  durationS: number;
  /** START_SUPPLY orders older than this are stale (sent before a restart) and ignored. */
  staleMs: number;
}

/** What the engine shows. */
export type EngineState =
  | "ESPERANDO_MONITOR"
  | "ACTIVADO"
  | "PARADO"
  | "SUMINISTRANDO"
  | "AVERIADO";

/** One charging point's engine. */
export class Engine {
  #cpId?: string;
  #fault = false;
  #stopped = false;
  #supply?: Supply;
  /** Sessions already supplied: a START_SUPPLY sent again (Central's outbox) is not a new one. */
  readonly #done = new Set<string>();

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

  /** Turns the simulated fault on or off. A faulty engine stops supplying. */
  setFault(on: boolean): TelemetryMessage[] {
    this.#fault = on;
    return on ? this.#end("AVERIA") : [];
  }

  /** Whether the fault is being simulated. */
  get faulty(): boolean {
    return this.#fault;
  }

  /** The driver unplugs: the supply ends normally. */
  unplug(): TelemetryMessage[] {
    return this.#end("UNPLUGGED");
  }

  /** Applies an order from Central; ignores orders for other CPs. */
  control(msg: ControlMessage, now: number): TelemetryMessage[] {
    if (!this.#cpId || !("cp_id" in msg) || msg.cp_id !== this.#cpId) return [];
    switch (msg.type) {
      case "START_SUPPLY":
        if (this.#supply || this.#fault || this.#done.has(msg.session_id)) return [];
        if (now - msg.ts > this.options.staleMs) return [];
        this.#stopped = false;
        this.#supply = new Supply({
          ...msg,
          powerKw: this.options.powerKw,
          durationS: msg.duration_s ?? this.options.durationS,
        });
        return [];
      case "STOP_SUPPLY":
        return this.#supply?.plan.session_id === msg.session_id ? this.#end(msg.reason) : [];
      case "PARAR":
        this.#stopped = true;
        return this.#end("PARAR");
      case "REANUDAR":
        this.#stopped = false;
        return [];
      default:
        return [];
    }
  }

  /** One second passes: telemetry for the supply, and its end when complete. */
  tick(): TelemetryMessage[] {
    if (!this.#supply) return [];
    const reading = this.#supply.tick();
    const plan = this.#supply.plan;
    const t: Telemetry = stamp({
      type: "TELEMETRY",
      cp_id: this.#cpId!,
      driver_id: plan.driver_id,
      session_id: plan.session_id,
      ...reading,
    });
    return this.#supply.complete ? [t, ...this.#end("COMPLETED")] : [t];
  }

  #end(reason: EndReason): TelemetryMessage[] {
    const supply = this.#supply;
    if (!supply) return [];
    this.#supply = undefined;
    this.#done.add(supply.plan.session_id);
    if (this.#done.size > 1000) this.#done.delete(this.#done.values().next().value!);
    const { seq: _seq, ...reading } = supply.reading();
    const end: SupplyEnd = stamp({
      type: "SUPPLY_END",
      cp_id: this.#cpId!,
      driver_id: supply.plan.driver_id,
      session_id: supply.plan.session_id,
      ...reading,
      reason,
    });
    return [end];
  }
}
