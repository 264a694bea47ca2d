/**
 * What the checker reads, as plain data: the sessions rows, each engine's record, the drivers'
 * ticket files and when each Central wrote. {@link parseRecord} (with the engine's own line
 * parser: one definition of the record) and {@link centralWrites} turn the files' text into it
 * without I/O.
 *
 * @module
 */
import { parseLine, type RecordLine } from "../../cp_engine/meter_record.ts";
import { EVENT_KINDS } from "../../central/rules.ts";

export type { RecordLine };

/** A sessions row (provisional and settled_at exist once Central settles sessions). */
export interface SessionRow {
  session_id: string;
  cp_id: string;
  driver_id: string;
  price_eur_kwh: number;
  status: string;
  consumo_kwh: number;
  importe_eur: number;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
  provisional?: number | null;
  settled_at?: number | null;
}

/** One engine's record file, read. */
export interface EngineRecord {
  cp_id: string;
  file: string;
  lines: RecordLine[];
  /** Lines that could not be read, each as "line N: why". */
  bad: string[];
}

/** Where a session stands in an engine's record: supplying, ended (not yet acknowledged), acked. */
export type RecordState = "started" | "ended" | "acked";

/** Each session of `rec` by its last state. */
export function sessionStates(rec: EngineRecord): Map<string, RecordState> {
  const open = new Map<string, RecordState>();
  for (const line of rec.lines) {
    if (line.kind === "start" && !open.has(line.session_id)) open.set(line.session_id, "started");
    if (line.kind === "end" && open.get(line.session_id) !== "acked") {
      open.set(line.session_id, "ended");
    }
    if (line.kind === "acked") open.set(line.session_id, "acked");
  }
  return open;
}

/** A ticket file found in a driver's tickets folder. */
export interface TicketFile {
  /** The driver whose folder holds it. */
  driver_id: string;
  /** The file's name, `<session_id>.json`. */
  file: string;
  /** Its JSON, or undefined when it did not parse (then `error` says why). */
  ticket?: Record<string, unknown>;
  error?: string;
}

/** The writes one Central process made (ms since the epoch), from its log. */
export interface CentralLog {
  /** e.g. "central#2" (the second start of the main Central). */
  instance: string;
  writes: number[];
}

/** Everything the checker compares. `records` is undefined when engines keep none. */
export interface Evidence {
  rows: SessionRow[];
  records?: EngineRecord[];
  tickets: TicketFile[];
  centrals: CentralLog[];
}

/** A whole record file's text, parsed line by line (a torn last line is reported, not fatal). */
export function parseRecord(cp_id: string, file: string, text: string): EngineRecord {
  const lines: RecordLine[] = [];
  const bad: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      lines.push(parseLine(line));
    } catch (e) {
      bad.push(`line ${i + 1}: ${(e as Error).message}`);
    }
  });
  return { cp_id, file, lines, bad };
}

// Central logs each stored event as "<time> INFO  [central] <cp> <kind>: <detail>" once the
// transaction that stored it committed (effect_runner.ts), so each such line is a write.
// Only Central's tag and the kinds of stored events: "[kafka] Connection error: …" and
// "[central] Kafka unreachable: …" have the same shape and are no writes.
const EVENT_LINE = new RegExp(
  `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (?:INFO|WARN) +\\[central\\] \\S+ (?:${EVENT_KINDS.join("|")}): `,
);

/**
 * The write times in a Central's chaos log, whose lines are `<ms since epoch> <output line>`
 * (the time the campaign received the line).
 */
export function centralWrites(instance: string, log: string): CentralLog {
  const writes: number[] = [];
  for (const line of log.split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    const at = Number(line.slice(0, space));
    if (Number.isFinite(at) && EVENT_LINE.test(line.slice(space + 1))) writes.push(at);
  }
  return { instance, writes };
}
