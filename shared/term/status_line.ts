/**
 * One live status line at the bottom of a terminal program (engine, monitor, driver): on a
 * terminal it is redrawn in place and log lines are printed above it; when stdout is not a
 * terminal each new status is printed as its own line, prefixed, for logs and tests.
 *
 * @module
 */
import { formatRecord, type LogRecord, setSink, type Sink } from "../process/log.ts";

const encoder = new TextEncoder();

/** A status line. */
export class StatusLine {
  readonly tty: boolean;
  #current = "";
  #lastPrinted = "";
  #previousSink?: Sink;

  /** `prefix` starts each printed line when stdout is not a terminal (e.g. "STATUS"). */
  constructor(readonly prefix: string, tty = Deno.stdout.isTerminal()) {
    this.tty = tty;
    if (this.tty) this.#previousSink = setSink((r) => this.#log(r));
  }

  /** Shows `text` as the status (plain text: colors are the caller's). */
  set(text: string): void {
    if (this.tty) {
      // A line wider than the terminal would wrap, and \r only returns to its last row.
      this.#current = truncateVisible(text, Deno.consoleSize().columns - 1);
      this.#write(`\r\x1b[K${this.#current}`);
    } else if (text !== this.#lastPrinted) {
      this.#lastPrinted = text;
      console.log(`${this.prefix} ${text}`);
    }
  }

  /** Prints a line above the status (a terminal) or as is (otherwise). */
  print(line: string): void {
    if (!this.tty) {
      console.log(line);
      return;
    }
    this.#write(`\r\x1b[K${line}\n${this.#current}`);
  }

  #log(r: LogRecord): void {
    this.#write(`\r\x1b[K`);
    console.error(formatRecord(r));
    this.#write(this.#current);
  }

  #write(text: string): void {
    Deno.stdout.writeSync(encoder.encode(text));
  }

  /** Ends the status line (leaves the last status visible) and restores logging. */
  close(): void {
    if (!this.tty) return;
    this.#write("\n");
    if (this.#previousSink) setSink(this.#previousSink);
  }
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/y;

/** Cuts `text` to `width` visible characters, keeping its color codes (and closing them). */
export function truncateVisible(text: string, width: number): string {
  let out = "";
  let visible = 0;
  for (let i = 0; i < text.length;) {
    ANSI.lastIndex = i;
    const m = ANSI.exec(text);
    if (m) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    if (visible === width) return out + "\x1b[0m";
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    out += ch;
    visible++;
    i += ch.length;
  }
  return out;
}
