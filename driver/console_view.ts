/**
 * The driver's console: the line each step of a charge prints, the live charge line with its
 * timer, the pause before the next request, and each ticket kept as `<session_id>.json`. It
 * writes to a status line (or anything shaped like one), so tests read its lines without a
 * terminal.
 *
 * @module
 */
import { join } from "node:path";
import type { Authorized, Denied, Telemetry, Ticket } from "../shared/protocol/messages.ts";
import { formatEur, formatKwh, roundEur, roundKwh } from "../shared/protocol/money.ts";
import { errorText, logger } from "../shared/process/log.ts";
import { type Color, paint } from "../shared/term/colors.ts";
import type { StatusLine } from "../shared/term/status_line.ts";
import type { DriverView, Silence } from "./charge_flow.ts";
import type { PromptScreen } from "./request_source.ts";

const log = logger("driver");

/** The part of a {@link StatusLine} the view writes to. */
export type StatusSink = Pick<StatusLine, "print" | "set" | "tty">;

/** What the view writes to and with. */
export interface ConsoleViewOptions {
  status: StatusSink;
  /** Folder (already there) where each ticket is saved as `<session_id>.json`. */
  ticketsDir: string;
  /** Clock of the charge timer; `Date.now` by default. */
  now?: () => number;
  /** Colors a text; {@link paint} for stdout by default. */
  paint?: (color: Color, text: string) => string;
}

/** The driver's {@link DriverView} on a console, and its prompt's {@link PromptScreen}. */
export class ConsoleView implements DriverView, PromptScreen {
  readonly #status: StatusSink;
  readonly #ticketsDir: string;
  readonly #now: () => number;
  readonly #paint: (color: Color, text: string) => string;
  readonly #saves = new Set<Promise<void>>();
  // Saves run one after another: a settled ticket is written over the provisional one, never
  // the other way round.
  #lastSave: Promise<void> = Promise.resolve();
  #chargeStarted = 0;

  constructor(options: ConsoleViewOptions) {
    this.#status = options.status;
    this.#ticketsDir = options.ticketsDir;
    this.#now = options.now ?? Date.now;
    this.#paint = options.paint ?? ((color, text) => paint(color, text));
  }

  /** Shows that a request went out. */
  requested(cpId: string): void {
    this.#status.print(`REQUEST ${cpId}: asking Central for a charge…`);
  }

  /** Shows the authorization and starts the charge timer. */
  authorized(a: Authorized): void {
    this.#chargeStarted = this.#now();
    this.#status.print(
      this.#paint("green", `AUTHORIZED at ${a.cp_id}: plug in (${a.price_eur_kwh} €/kWh)`),
    );
  }

  /** Shows a denial with Central's words. */
  denied(d: Denied): void {
    this.#status.print(this.#paint("red", `DENIED at ${d.cp_id}: ${d.message}`));
  }

  /** Redraws the live charge line. */
  progress(t: Telemetry): void {
    const text = `${t.cp_id}: ${formatKwh(t.consumo_kwh)} kWh  ${
      formatEur(t.importe_eur)
    } €  ${this.#elapsed()}`;
    this.#status.set(this.#status.tty ? `⚡ ${this.#paint("green", text)}` : text);
  }

  /**
   * Shows the ticket and saves it, its kWh and € rounded by the money rule: a provisional
   * one marked as such, and the final one that `settled` it later saved over it. `earlier`:
   * the charge was requested by an earlier run of this driver (read after a restart).
   */
  ticket(received: Ticket, news: "new" | "settled" = "new", earlier = false): void {
    const t = {
      ...received,
      consumo_kwh: roundKwh(received.consumo_kwh),
      importe_eur: roundEur(received.importe_eur),
    };
    const tty = this.#status.tty;
    const color = t.status === "ENDED" ? "green" : "yellow";
    const mark = t.provisional ? "PROVISIONAL " : news === "settled" ? "SETTLED " : "";
    this.#status.print(
      this.#paint(color, `TICKET ${t.cp_id}: ${t.status} (${t.reason}) ${mark}`) +
        `${formatKwh(t.consumo_kwh)} kWh × ${t.price_eur_kwh} €/kWh = ` +
        `${formatEur(t.importe_eur)} €` +
        (t.provisional ? " (Central's last figures; the CP's meter will settle it)" : "") +
        (earlier ? " (from an earlier run)" : "") +
        // Scripts and logs get the whole ticket on the line; a person, the saved file.
        (tty ? "" : ` ${JSON.stringify(t)}`),
    );
    this.#clear(); // the charge is over: no live line left behind
    const save = this.#lastSave.then(() => this.#save(t));
    this.#lastSave = save;
    this.#saves.add(save);
    void save.finally(() => this.#saves.delete(save));
  }

  /**
   * A wait without news, on the status line: the broker unreachable (at once), or Central
   * silent (from 2 s on: readings come every second, one late reading is no news). Off a
   * terminal, without the seconds, so that each cause is one line, not one a second.
   */
  waitingFor(cause: Silence, silentSeconds: number): void {
    if (cause === "central" && silentSeconds < 2) return;
    const text = cause === "broker"
      ? "broker unreachable: waiting for Kafka (the charge is not given up)"
      : this.#status.tty
      ? `Central silent for ${silentSeconds} s`
      : "Central silent: waiting for news";
    this.#status.set(this.#status.tty ? this.#paint("yellow", text) : text);
  }

  /** After the last request: how many provisional tickets still wait for their final one. */
  settling(unsettled: number): void {
    this.#status.set(
      `waiting for ${unsettled} final ticket${unsettled === 1 ? "" : "s"} ` +
        "(provisional ones are settled by the CP's meter)",
    );
  }

  /** Shows that Central did not answer a request in time. */
  noAnswer(cpId: string, seconds: number): void {
    this.#status.print(
      this.#paint("yellow", `NO ANSWER for ${cpId} within ${seconds} s; going on`),
    );
  }

  /** Shows that a charge went silent and was given up. */
  lost(cpId: string, seconds: number): void {
    this.#status.print(this.#paint("yellow", `LOST ${cpId}: no news for ${seconds} s; giving up`));
  }

  /** Shows one second of the pause before the next request: `left` of `total` seconds. */
  waiting(left: number, total: number): void {
    this.#status.set(`next request in ${left} s…`);
    // Scripts wait on one line for the pause, not on a line a second.
    if (left === total && !this.#status.tty) {
      this.#status.print(`WAIT ${left} s before the next request`);
    }
  }

  /** The pause is over (or cut short): its countdown leaves the screen. */
  waited(): void {
    this.#clear();
  }

  /** Asks the prompt's question: on a terminal it is the live line, so printed lines keep it. */
  ask(question: string): void {
    if (this.#status.tty) this.#status.set(question);
    else this.#status.print(question);
  }

  /** Prints a line about what was typed at the prompt. */
  say(line: string): void {
    this.#status.print(line);
  }

  /** A line was typed (or input ended): the question stays in the scrollback, not live. */
  answered(): void {
    this.#clear();
  }

  /** Prints the closing summary, with nothing live left under it. */
  summary(line: string): void {
    this.#clear();
    this.#status.print(line);
  }

  /** Resolves once every ticket shown so far is saved (or its failure logged). */
  async saved(): Promise<void> {
    await Promise.all(this.#saves);
  }

  /** Empties the live line on a terminal; elsewhere there is none to empty. */
  #clear(): void {
    if (this.#status.tty) this.#status.set("");
  }

  #elapsed(): string {
    const s = Math.floor((this.#now() - this.#chargeStarted) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  }

  async #save(t: Ticket): Promise<void> {
    const file = join(this.#ticketsDir, `${t.session_id}.json`);
    // The envelope (type, id, ts) is transport; the file keeps the ticket and readable times.
    const { type: _type, id: _id, ts: _ts, ...fields } = t;
    const body = {
      ...fields,
      started_at_iso: new Date(t.started_at).toISOString(),
      ended_at_iso: new Date(t.ended_at).toISOString(),
    };
    try {
      await Deno.writeTextFile(file, JSON.stringify(body, null, 2) + "\n");
      this.#status.print(`ticket saved to ${file}`);
    } catch (e) {
      log.error(`cannot save the ticket to ${file}: ${errorText(e)}`);
    }
  }
}
