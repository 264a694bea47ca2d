/**
 * The chaos campaign's checker: compares records written by different programs (each
 * engine's record of what it delivered, the drivers' ticket files, Central's sessions table,
 * the Centrals' logs) and names every disagreement with an invariant of issue 15. Pure.
 *
 * @module
 */
import { amountFor } from "../../shared/protocol/money.ts";
import { isNormalEnd } from "../../shared/protocol/messages.ts";
import { type Evidence, type RecordLine, type SessionRow, sessionStates } from "./evidence.ts";

/** One disagreement, named by its session when it has one. */
export interface Violation {
  session?: string;
  text: string;
}

/** What was checked for one invariant and what was wrong. */
export interface Verdict {
  invariant: "I1 energy" | "I2 one owner" | "I3 one ticket" | "I4 nothing hangs" | "I5 one Central";
  /** How many things were checked, and what they are ("sessions", "Central runs"). */
  checked: number;
  unit: string;
  violations: Violation[];
  /** Something the reader must know, e.g. that a record was not available. */
  notes: string[];
}

/** Tunables of the checks. */
export interface CheckOptions {
  /** Two Centrals' writes closer than this are not counted as overlapping (log delivery). */
  toleranceMs?: number;
}

type End = Extract<RecordLine, { kind: "end" }>;
type Start = Extract<RecordLine, { kind: "start" }>;

/** Runs every check. A campaign passes when no verdict has a violation and sessions were checked. */
export function check(e: Evidence, opts: CheckOptions = {}): Verdict[] {
  return [energy(e), owner(e), tickets(e), hangs(e), oneCentral(e, opts.toleranceMs ?? 500)];
}

/** Whether the verdicts pass: no violation, and at least one session checked. */
export function passed(verdicts: readonly Verdict[], sessions: number): boolean {
  return sessions > 0 && verdicts.every((v) => v.violations.length === 0);
}

function isProvisional(r: SessionRow): boolean {
  return r.provisional === 1;
}

/** Every end line per session, over all records. */
function endsBySession(e: Evidence): Map<string, { cp: string; end: End }[]> {
  const ends = new Map<string, { cp: string; end: End }[]>();
  for (const rec of e.records ?? []) {
    for (const line of rec.lines) {
      if (line.kind !== "end") continue;
      const list = ends.get(line.session_id) ?? [];
      list.push({ cp: rec.cp_id, end: line });
      ends.set(line.session_id, list);
    }
  }
  return ends;
}

const sameEnd = (a: End, b: End) =>
  a.consumo_kwh === b.consumo_kwh && a.reason === b.reason && a.cp_id === b.cp_id;

function energy(e: Evidence): Verdict {
  const v: Verdict = {
    invariant: "I1 energy",
    checked: 0,
    unit: "sessions",
    violations: [],
    notes: [],
  };
  const bad = (session: string, text: string) => v.violations.push({ session, text });
  const ends = endsBySession(e);
  if (!e.records) v.notes.push("engine record not available: rows checked against the € rule only");
  else if (e.rows.length > 0 && e.records.every((r) => r.lines.length === 0)) {
    v.notes.push("every engine's record is empty: did the engines write them? (their logs say)");
  }
  for (const rec of e.records ?? []) {
    for (const b of rec.bad) v.violations.push({ text: `${rec.file} ${b}` });
  }
  const rows = new Map(e.rows.map((r) => [r.session_id, r]));
  for (const row of e.rows) {
    if (row.status === "RUNNING") continue; // I4's business
    v.checked++;
    const s = row.session_id;
    const due = amountFor(row.consumo_kwh, row.price_eur_kwh);
    if (row.importe_eur !== due) {
      bad(
        s,
        `row bills ${row.importe_eur} € for ${row.consumo_kwh} kWh at ${row.price_eur_kwh} €/kWh; the rule gives ${due} €`,
      );
    }
    if (!e.records) continue;
    const found = ends.get(s) ?? [];
    if (found.length === 0) {
      bad(
        s,
        `no end in any engine's record (row: ${row.status} ${row.end_reason}, ${row.consumo_kwh} kWh)`,
      );
      continue;
    }
    const [{ cp, end }] = found;
    if (found.some((f) => !sameEnd(f.end, end))) {
      bad(s, `the engine's record has ${found.length} different ends for it`);
    }
    if (cp !== row.cp_id) bad(s, `ended in ${cp}'s record, but the row is on ${row.cp_id}`);
    if (end.consumo_kwh !== row.consumo_kwh) {
      bad(
        s,
        `row has ${row.consumo_kwh} kWh, the engine delivered ${end.consumo_kwh} kWh (${end.reason})`,
      );
    }
    if (end.reason !== row.end_reason) {
      bad(s, `row ended ${row.end_reason}, the engine's record says ${end.reason}`);
    }
    const status = isNormalEnd(end.reason) ? "ENDED" : "ABORTED";
    if (row.status !== status) {
      bad(s, `row is ${row.status}, the engine's ${end.reason} makes it ${status}`);
    }
  }
  for (const [s, found] of ends) {
    if (!rows.has(s)) {
      bad(s, `${found[0].cp}'s engine recorded an end for a session Central does not have`);
    }
  }
  return v;
}

function overlaps(a: [number, number], b: [number, number]): boolean {
  return a[0] < b[1] && b[0] < a[1];
}

function owner(e: Evidence): Verdict {
  const v: Verdict = {
    invariant: "I2 one owner",
    checked: 0,
    unit: "sessions",
    violations: [],
    notes: [],
  };
  // The engines' view: what each one actually supplied, from start to end.
  for (const rec of e.records ?? []) {
    const starts = new Map<string, Start>();
    const ended = new Map<string, number>();
    for (const line of rec.lines) {
      if (line.kind === "start" && !starts.has(line.session_id)) starts.set(line.session_id, line);
      if (line.kind === "end" && !ended.has(line.session_id)) {
        ended.set(line.session_id, line.ended_at);
      }
    }
    const supplies = [...starts.values()].map((st) => ({
      s: st.session_id,
      span: [st.at, ended.get(st.session_id) ?? Infinity] as [number, number],
    })).sort((a, b) => a.span[0] - b.span[0]);
    for (const [i, a] of supplies.entries()) {
      for (const b of supplies.slice(i + 1)) {
        if (overlaps(a.span, b.span)) {
          v.violations.push({
            session: b.s,
            text: `${rec.cp_id}'s engine supplied ${b.s} from ${
              iso(b.span[0])
            } while ${a.s} ran (until ${iso(a.span[1])})`,
          });
        }
      }
    }
  }
  // Central's view: it authorizes a CP only once every earlier session of it is settled.
  for (const [cp, rows] of Map.groupBy(e.rows, (r) => r.cp_id)) {
    rows.sort((a, b) => a.started_at - b.started_at);
    let busy: { s: string; until: number } | undefined;
    for (const row of rows) {
      v.checked++;
      if (busy && row.started_at < busy.until) {
        v.violations.push({
          session: row.session_id,
          text: `Central authorized ${cp} for it at ${
            iso(row.started_at)
          } while ${busy.s} was unsettled (until ${iso(busy.until)})`,
        });
      }
      const until = row.status === "RUNNING" || isProvisional(row)
        ? Infinity
        : row.settled_at ?? row.ended_at ?? Infinity;
      if (!busy || until > busy.until) busy = { s: row.session_id, until };
    }
  }
  if (!e.records) v.notes.push("engine record not available: Central's view only");
  return v;
}

function tickets(e: Evidence): Verdict {
  const v: Verdict = {
    invariant: "I3 one ticket",
    checked: 0,
    unit: "sessions",
    violations: [],
    notes: [],
  };
  const bad = (session: string, text: string) => v.violations.push({ session, text });
  const files = Map.groupBy(e.tickets, (t) => t.file.replace(/\.json$/, ""));
  for (const row of e.rows) {
    if (row.status === "RUNNING") continue;
    v.checked++;
    const s = row.session_id;
    const found = files.get(s) ?? [];
    files.delete(s);
    const own = found.filter((f) => f.driver_id === row.driver_id);
    for (const f of found) {
      if (f.driver_id !== row.driver_id) {
        bad(s, `its ticket is in ${f.driver_id}'s folder, not ${row.driver_id}'s`);
      }
    }
    if (own.length === 0) {
      bad(
        s,
        `driver ${row.driver_id} has no ticket for it (row: ${row.status} ${row.end_reason}, ${row.consumo_kwh} kWh)`,
      );
      continue;
    }
    const t = own[0].ticket;
    if (!t) {
      bad(s, `${own[0].file} of ${row.driver_id} cannot be read: ${own[0].error}`);
      continue;
    }
    if (t.provisional === true) bad(s, `driver ${row.driver_id} has only a provisional ticket`);
    const diffs = [
      ["consumo_kwh", row.consumo_kwh],
      ["importe_eur", row.importe_eur],
      ["status", row.status],
      ["reason", row.end_reason],
      ["cp_id", row.cp_id],
      ["price_eur_kwh", row.price_eur_kwh],
    ].filter(([k, want]) => t[k as string] !== want).map(([k, want]) =>
      `${k} ${JSON.stringify(t[k as string])} (row: ${JSON.stringify(want)})`
    );
    if (diffs.length) bad(s, `ticket differs from the row: ${diffs.join(", ")}`);
  }
  for (const [s, list] of files) {
    bad(
      s,
      `${
        list.map((f) => f.driver_id).join(", ")
      } kept a ticket for a session Central does not have`,
    );
  }
  return v;
}

function hangs(e: Evidence): Verdict {
  const v: Verdict = {
    invariant: "I4 nothing hangs",
    checked: 0,
    unit: "sessions",
    violations: [],
    notes: [],
  };
  for (const row of e.rows) {
    v.checked++;
    if (row.status === "RUNNING") {
      v.violations.push({ session: row.session_id, text: `still RUNNING on ${row.cp_id}` });
    } else if (isProvisional(row)) {
      v.violations.push({
        session: row.session_id,
        text: `still provisional (${row.end_reason}) on ${row.cp_id}`,
      });
    }
  }
  for (const rec of e.records ?? []) {
    for (const [s, state] of sessionStates(rec)) {
      if (state === "started") {
        v.violations.push({ session: s, text: `${rec.cp_id}'s engine never ended it` });
      }
      if (state === "ended") {
        v.violations.push({
          session: s,
          text: `${rec.cp_id}'s engine's end was never acknowledged by Central`,
        });
      }
    }
  }
  return v;
}

function oneCentral(e: Evidence, toleranceMs: number): Verdict {
  const v: Verdict = {
    invariant: "I5 one Central",
    checked: 0,
    unit: "Central runs",
    violations: [],
    notes: [],
  };
  const runs = e.centrals.filter((c) => c.writes.length > 0).map((c) => ({
    instance: c.instance,
    first: Math.min(...c.writes),
    last: Math.max(...c.writes),
  }));
  v.checked = e.centrals.length;
  for (const [i, a] of runs.entries()) {
    for (const b of runs.slice(i + 1)) {
      const from = Math.max(a.first, b.first), to = Math.min(a.last, b.last);
      if (to - from > toleranceMs) {
        v.violations.push({
          text: `${a.instance} and ${b.instance} both wrote between ${iso(from)} and ${iso(to)}`,
        });
      }
    }
  }
  return v;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : "never";
}
