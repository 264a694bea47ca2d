/**
 * Carries out the effects that Central's rules return, in the one order that keeps every
 * promise to drivers: the database first (one transaction per batch, control messages into
 * the outbox in the same transaction), then Kafka from the outbox, then the views.
 *
 * Invariant: no message about a state change leaves Central before that change is stored,
 * so a driver never holds a ticket that the database lacks. If the database refuses a
 * write, Central stops (see `onFatal`): the memory holds a change that is not stored, and
 * Kafka hands back the records whose effects were not committed.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { errorText, logger } from "../shared/process/log.ts";
import { Activity } from "./activity.ts";
import type { CentralDb } from "./db.ts";
import type { Metrics } from "./metrics.ts";
import { type Effect, effectCp, type RunningSession } from "./rules.ts";

const log = logger("central");

/** Session rows written per transaction when progress is saved. */
const PROGRESS_CHUNK = 500;

/** The database as the runner writes it. */
export type EffectStore = Pick<CentralDb, "apply" | "inStorageOrder" | "saveProgress">;

/** Runs effects against the database, the outbox sender and the live views. */
export class EffectRunner {
  /** Recent events and request counters, for the views. */
  readonly activity = new Activity();
  /** Telemetry totals applied in memory and not yet written, by session: the latest only. */
  #unsaved = new Map<string, RunningSession>();
  #saving: Promise<void> = Promise.resolve();
  #failed = false;
  readonly #listeners = new Set<() => void>();
  /**
   * Called when Central cannot go on (the database refuses writes), with the CPs whose
   * change in memory the database refused.
   */
  onFatal: (why: string, unstored: ReadonlySet<string>) => void = () => {};

  constructor(
    readonly db: EffectStore,
    readonly outbox: { flush(): void },
    readonly metrics: Metrics,
  ) {}

  /**
   * Carries out `effects`. Telemetry progress waits in memory for {@link saveProgress}: at
   * 10,000 CPs, ten thousand single-row updates a second in small transactions rewrote the
   * whole sessions table twenty times a second.
   */
  apply(effects: Effect[], now = Date.now()): void {
    if (effects.length === 0) return;
    const stored = effects.filter((e) => {
      if (e.kind !== "progress") return true;
      this.#unsaved.set(e.session.session_id, e.session);
      return false;
    });
    this.#write(
      () => this.db.apply(stored, now),
      () => stored.flatMap((e) => effectCp(e) ?? []),
    );
    let sends = false;
    for (const e of effects) {
      if (e.kind === "send") sends = true;
      else if (e.kind === "log") log[e.level](e.text);
      else if (e.kind === "event") {
        const ev = e.event;
        log.info(`${ev.cp_id ?? "-"} ${ev.kind}: ${ev.detail}`);
        this.activity.record(ev);
      }
    }
    if (sends) this.outbox.flush();
    for (const listener of this.#listeners) listener();
  }

  /**
   * Writes the telemetry totals applied since the last call, in the table's order and in
   * chunks with a yield between them. The telemetry consumer calls it before it commits its
   * offsets, so a record is never committed before its effect is stored; after a crash,
   * Kafka hands back what was applied but not saved. Calls run one after the other, so an
   * older total never overwrites a newer one.
   */
  saveProgress(): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      const sessions = this.db.inStorageOrder([...this.#unsaved.values()]);
      this.#unsaved = new Map();
      for (let i = 0; i < sessions.length; i += PROGRESS_CHUNK) {
        if (i > 0) await delay(0);
        const chunk = sessions.slice(i, i + PROGRESS_CHUNK);
        this.#write(() => this.db.saveProgress(chunk), () => chunk.map((s) => s.cp_id));
      }
    });
    return this.#saving;
  }

  /** Calls `listener` after every change; returns its removal. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #write(write: () => void, cps: () => string[]): void {
    if (this.#failed) throw new Error("the database failed: Central is stopping");
    try {
      const t0 = performance.now();
      write();
      this.metrics.dbWrite.add(Math.round(performance.now() - t0));
    } catch (e) {
      this.#failed = true;
      this.onFatal(`cannot write the database: ${errorText(e)}`, new Set(cps()));
      throw e;
    }
  }
}
