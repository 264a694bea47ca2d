/**
 * The engine's record of what it delivered, free of I/O: one JSON object per line, appended
 * and made durable before the message it backs is sent, so that the meter — not Central's
 * last telemetry — is what a session is billed by, even after a crash or a long partition.
 *
 * - `start`: a supply began (who, at what price);
 * - `meter`: every second of supply, the energy delivered so far;
 * - `end`: the supply ended (also NOT_SUPPLIED, 0 kWh, for a session it refused to start);
 * - `acked`: Central stored that end, so it need not be sent again.
 *
 * {@link replay} turns a file's lines back into what the engine must remember.
 *
 * @module
 */
import { END_REASONS, price, type SupplyEnd, type Telemetry } from "../shared/protocol/messages.ts";
import {
  count,
  id,
  type Infer,
  num,
  object,
  oneOf,
  parseJson,
  timestamp,
} from "../shared/protocol/validate.ts";

const kwh = num(0, 1_000_000);

const startSpec = {
  kind: oneOf("start"),
  session_id: id,
  cp_id: id,
  driver_id: id,
  price_eur_kwh: price,
  at: timestamp,
};
const meterSpec = {
  kind: oneOf("meter"),
  session_id: id,
  consumo_kwh: kwh,
  seq: count,
  at: timestamp,
};
const endSpec = {
  kind: oneOf("end"),
  session_id: id,
  cp_id: id,
  driver_id: id,
  consumo_kwh: kwh,
  importe_eur: num(0, 10_000_000),
  reason: oneOf(...END_REASONS),
  ended_at: timestamp,
};
const ackedSpec = { kind: oneOf("acked"), session_id: id, at: timestamp };

/** A supply began. */
export type StartLine = Infer<typeof startSpec>;
/** A second of supply: energy delivered so far. */
export type MeterLine = Infer<typeof meterSpec>;
/** A supply ended (the figures the engine reports and Central bills). */
export type EndLine = Infer<typeof endSpec>;
/** Central acknowledged a session's end. */
export type AckedLine = Infer<typeof ackedSpec>;
/** One line of the record. */
export type RecordLine = StartLine | MeterLine | EndLine | AckedLine;

const specs = { start: startSpec, meter: meterSpec, end: endSpec, acked: ackedSpec };

/** One line of the file for `line` (with its newline). */
export function serializeLine(line: RecordLine): string {
  return JSON.stringify(line) + "\n";
}

/** Parses one line; throws a ValidationError (or SyntaxError) naming what is wrong. */
export function parseLine(text: string): RecordLine {
  const raw = parseJson(text) as Record<string, unknown> | null;
  const kind = typeof raw === "object" && raw !== null ? raw.kind : undefined;
  // Own keys only: "toString" must not find the prototype's function.
  const spec = typeof kind === "string" && Object.hasOwn(specs, kind)
    ? specs[kind as keyof typeof specs]
    : undefined;
  if (!spec) throw new SyntaxError(`unknown record kind ${JSON.stringify(kind)}`);
  return object(raw, spec) as RecordLine;
}

/** The line that backs a reading about to be sent. */
export function meterLine(t: Telemetry): MeterLine {
  const { session_id, consumo_kwh, seq, ts } = t;
  return { kind: "meter", session_id, consumo_kwh, seq, at: ts };
}

/** The SUPPLY_END message reporting a recorded end (a fresh id and time each time sent). */
export function endMessage(end: EndLine, now: number): SupplyEnd {
  const { kind: _kind, ...fields } = end;
  return { type: "SUPPLY_END", id: crypto.randomUUID(), ts: now, ...fields };
}

/** A session the record knows, as far as it got. */
export interface RecordedSession {
  start?: StartLine;
  lastMeter?: MeterLine;
  end?: EndLine;
  acked: boolean;
}

/** What a record's lines say, and the lines that could not be read. */
export interface Replay {
  sessions: Map<string, RecordedSession>;
  /** One line per unreadable line ("line 7: …"); a torn last line after a crash lands here. */
  warnings: string[];
  /** The time of the last line read, if any. */
  lastAt?: number;
}

/** Reads a record file's text back; never throws. */
export function replay(text: string): Replay {
  const sessions = new Map<string, RecordedSession>();
  const warnings: string[] = [];
  let lastAt: number | undefined;
  const lines = text.split("\n");
  lines.forEach((t, i) => {
    if (t.trim() === "") return;
    let line: RecordLine;
    try {
      line = parseLine(t);
    } catch (e) {
      const torn = i === lines.length - 1 ? " (torn last line: a crash while writing)" : "";
      warnings.push(`line ${i + 1}: ${(e as Error).message}${torn}; ignored`);
      return;
    }
    const s = sessions.get(line.session_id) ?? { acked: false };
    sessions.set(line.session_id, s);
    if (line.kind === "start") s.start = line;
    else if (line.kind === "meter") s.lastMeter = line;
    else if (line.kind === "end") s.end = line;
    else s.acked = true;
    lastAt = Math.max(lastAt ?? 0, line.kind === "end" ? line.ended_at : line.at);
  });
  return { sessions, warnings, lastAt };
}
