/**
 * Timestamped log lines for every program, with a replaceable sink so that a full-screen
 * view (Central's dashboard) can show them in its own area instead of on stderr.
 *
 * @module
 */
import { paint } from "../term/colors.ts";

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

/** One log line, before formatting. */
export interface LogRecord {
  at: Date;
  level: Level;
  source: string;
  message: string;
}

/** Where log records go. */
export type Sink = (record: LogRecord) => void;

const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function defaultMinimum(): Level {
  try {
    const v = Deno.env.get("EV_LOG_LEVEL");
    if (v && v in LEVELS) return v as Level;
  } catch {
    // no env permission: keep the default
  }
  return "info";
}

let minimum: Level = defaultMinimum();
let sink: Sink = writeToStderr;

/** Formats a record as one plain line. */
export function formatRecord(r: LogRecord): string {
  const time = r.at.toISOString().slice(11, 23);
  return `${time} ${r.level.toUpperCase().padEnd(5)} [${r.source}] ${r.message}`;
}

function writeToStderr(r: LogRecord): void {
  const line = formatRecord(r);
  const color = r.level === "error" ? "red" : r.level === "warn" ? "yellow" : undefined;
  console.error(color ? paint(color, line, "stderr") : line);
}

/** Replaces where log lines go; returns the previous sink. */
export function setSink(next: Sink): Sink {
  const previous = sink;
  sink = next;
  return previous;
}

/** Sets the lowest level that is written. */
export function setLevel(level: Level): void {
  minimum = level;
}

/** A logger for one component. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Creates a logger whose lines carry `source`. */
export function logger(source: string): Logger {
  const emit = (level: Level) => (message: string) => {
    if (LEVELS[level] < LEVELS[minimum]) return;
    sink({ at: new Date(), level, source, message });
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** A short text for an unknown thrown value. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
