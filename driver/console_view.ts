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
import { errorText, logger } from "../shared/process/log.ts";
import { type Color, paint } from "../shared/term/colors.ts";
import type { StatusLine } from "../shared/term/status_line.ts";
import type { DriverView } from "./charge_flow.ts";

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

/** The driver's {@link DriverView} on a console. */
export class ConsoleView implements DriverView {
  readonly #status: StatusSink;
  readonly #ticketsDir: string;
  readonly #now: () => number;
  readonly #paint: (color: Color, text: string) => string;
  readonly #saves = new Set<Promise<void>>();
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
    const text = `${t.cp_id}: ${t.consumo_kwh.toFixed(3)} kWh  ${
      t.importe_eur.toFixed(3)
    } €  ${this.#elapsed()}`;
    this.#status.set(this.#status.tty ? `⚡ ${this.#paint("green", text)}` : text);
  }

  /** Shows the ticket and saves it. */
  ticket(t: Ticket): void {
    const tty = this.#status.tty;
    const color = t.status === "ENDED" ? "green" : "yellow";
    this.#status.print(
      this.#paint(color, `TICKET ${t.cp_id}: ${t.status} (${t.reason}) `) +
        `${t.consumo_kwh.toFixed(3)} kWh × ${t.price_eur_kwh} €/kWh = ` +
        `${t.importe_eur.toFixed(3)} €` +
        // Scripts and logs get the whole ticket on the line; a person, the saved file.
        (tty ? "" : ` ${JSON.stringify(t)}`),
    );
    if (tty) this.#status.set(""); // the charge is over: no live line left behind
    const save = this.#save(t);
    this.#saves.add(save);
    void save.finally(() => this.#saves.delete(save));
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

  /** Resolves once every ticket shown so far is saved (or its failure logged). */
  async saved(): Promise<void> {
    await Promise.all(this.#saves);
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
