/**
 * Central's console panel: a table of every CP in its state's color, refreshed in place on a
 * terminal, or one line per state change when stdout is not a terminal.
 *
 * @module
 */
import { type Color, paint } from "../shared/term/colors.ts";
import { formatRecord, type LogRecord } from "../shared/process/log.ts";
import { formatEur, formatKwh } from "../shared/protocol/money.ts";
import { type ChargingPoint, type CpState, shownState } from "./rules.ts";

/** The color of each state, as the spec asks. */
export const STATE_COLORS: Record<CpState, Color> = {
  ACTIVADO: "green",
  PARADO: "orange",
  SUMINISTRANDO: "green",
  AVERIADO: "red",
  DESCONECTADO: "gray",
};

/**
 * What a CP's row says about its state (driver, kWh, € while supplying), and the sessions
 * waiting for its engine's end, with Central's provisional figures marked as such.
 */
export function stateText(cp: ChargingPoint): string {
  const state = shownState(cp);
  const s = cp.session;
  let text: string = state;
  if (s) {
    const supply = `driver ${s.driver_id}  ${formatKwh(s.consumo_kwh)} kWh  ${
      formatEur(s.importe_eur)
    } €`;
    text = state === "SUMINISTRANDO" ? `${state}  ${supply}` : `${state}  (${supply})`;
  }
  for (const u of cp.unsettled ?? []) {
    text +=
      `  [settling ${u.session_id.slice(0, 8)} ${u.reason}: ${formatKwh(u.consumo_kwh)} kWh ` +
      `${formatEur(u.importe_eur)} € provisional]`;
  }
  return text;
}

function fit(text: string, width: number): string {
  return text.length > width ? text.slice(0, Math.max(0, width - 1)) + "…" : text.padEnd(width);
}

/** How many CPs are in each state, in the order of {@link STATE_COLORS}. */
export function stateCounts(cps: readonly ChargingPoint[]): Record<CpState, number> {
  const counts = Object.fromEntries(
    Object.keys(STATE_COLORS).map((s) => [s, 0]),
  ) as Record<CpState, number>;
  for (const cp of cps) counts[shownState(cp)]++;
  return counts;
}

/**
 * Renders the table as lines no wider than `width`, without colors when `color` is false.
 * With `maxRows`, only that many CPs are drawn, after a line counting the CPs in each state:
 * a network of thousands is summed up instead of scrolling away, and a redraw costs the
 * same however many CPs there are.
 */
export function renderBoard(
  cps: readonly ChargingPoint[],
  width: number,
  color: boolean,
  maxRows = Infinity,
): string[] {
  const shownCps = cps.length > maxRows ? cps.slice(0, Math.max(0, maxRows - 1)) : cps;
  const idW = Math.max(5, ...shownCps.map((c) => c.cp_id.length));
  const locW = Math.max(8, Math.min(28, width - idW - 40));
  const head = `${fit("CP", idW)}  ${fit("LOCATION", locW)}  ${fit("€/kWh", 6)}  STATE`;
  const lines = [fit(head, width), "─".repeat(Math.min(width, head.length + 30))];
  if (shownCps !== cps) {
    const counts = Object.entries(stateCounts(cps)).filter(([, n]) => n > 0)
      .map(([s, n]) => {
        const text = `${n} ${s}`;
        return color ? paint(STATE_COLORS[s as CpState], text) : text;
      });
    const hidden = cps.length - shownCps.length;
    lines.unshift(`${cps.length} CPs: ${counts.join(" · ")} (${hidden} not shown)`);
  }
  for (const cp of shownCps) {
    const left = `${fit(cp.cp_id, idW)}  ${fit(cp.location, locW)}  ${
      fit(cp.price_eur_kwh.toFixed(3), 6)
    }  `;
    const state = fit(stateText(cp), Math.max(10, width - left.length));
    const shown = color ? paint(STATE_COLORS[shownState(cp)], state) : state;
    lines.push(left + shown);
  }
  if (cps.length === 0) lines.push("(no charging points yet: start an EV_CP_M)");
  return lines;
}

/** The live view. */
export class Dashboard {
  readonly #tty: boolean;
  readonly #recent: string[] = [];
  readonly #lastStates = new Map<string, string>();
  #timer?: ReturnType<typeof setInterval>;
  #dirty = true;
  #stopped = false;
  #lineTimer?: ReturnType<typeof setTimeout>;

  constructor(
    readonly title: string,
    readonly source: () => readonly ChargingPoint[],
    readonly footer: () => string[] = () => [],
  ) {
    this.#tty = Deno.stdout.isTerminal();
  }

  /** Whether the view redraws a full screen (and so shows log lines itself). */
  get fullScreen(): boolean {
    return this.#tty;
  }

  /** Starts redrawing (terminal) at most every `ms` milliseconds. */
  start(ms = 250): void {
    if (this.#tty) {
      Deno.stdout.writeSync(new TextEncoder().encode("\x1b[?25l\x1b[2J"));
      this.#timer = setInterval(() => this.#dirty && this.#draw(), ms);
    }
    this.changed();
  }

  /** Adds a line to the recent-events area. */
  log(record: LogRecord): void {
    this.#recent.push(formatRecord(record));
    if (this.#recent.length > 8) this.#recent.shift();
    this.#dirty = true;
  }

  /** Something changed: redraw soon (terminal), or print the CPs whose state changed. */
  changed(): void {
    this.#dirty = true;
    if (this.#stopped || this.#tty || this.#lineTimer !== undefined) return;
    // Coalesced: one pass over the CPs per 200 ms, however many changes came in between, so
    // the cost does not grow with the message rate.
    this.#lineTimer = setTimeout(() => {
      this.#lineTimer = undefined;
      this.#printChanges();
    }, 200);
  }

  #printChanges(hide?: ReadonlySet<string>): void {
    for (const cp of this.source()) {
      if (hide?.has(cp.cp_id)) continue;
      // A session settling is news too, not the kWh of every second of a supply.
      const state = `${shownState(cp)} ${cp.unsettled?.length ?? 0}`;
      if (this.#lastStates.get(cp.cp_id) === state) continue;
      this.#lastStates.set(cp.cp_id, state);
      console.log(`STATE ${cp.cp_id} ${stateText(cp)}`);
    }
  }

  #draw(): void {
    this.#dirty = false;
    const { columns: width, rows } = Deno.consoleSize();
    const footer = this.footer();
    // Title, blank, board header (2), blank, events title, events, blank, footer.
    const room = rows - 6 - this.#recent.length - footer.length;
    const lines = [
      paint("bold", this.title),
      "",
      ...renderBoard(this.source(), width, true, Math.max(3, room - 1)),
      "",
      paint("bold", "Recent events"),
      ...this.#recent.map((l) => fit(l, width)),
      "",
      ...footer.map((l) => fit(l, width)),
    ];
    const text = "\x1b[H" + lines.map((l) => l + "\x1b[K").join("\n") + "\x1b[J";
    Deno.stdout.writeSync(new TextEncoder().encode(text));
  }

  /**
   * Stops redrawing and gives the terminal back, printing the changes not printed yet but
   * those of the CPs in `hide`: after a failed write, memory holds for them what the
   * database refused.
   */
  stop({ hide }: { hide?: ReadonlySet<string> } = {}): void {
    if (this.#stopped) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#lineTimer !== undefined) {
      clearTimeout(this.#lineTimer);
      this.#lineTimer = undefined;
      this.#printChanges(hide);
    }
    this.#stopped = true;
    if (this.#tty) Deno.stdout.writeSync(new TextEncoder().encode("\x1b[?25h\n"));
  }
}
