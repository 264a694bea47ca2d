import assert from "node:assert/strict";
import type { EndReason } from "../../shared/protocol/messages.ts";
import { check, passed, type Verdict } from "./checker.ts";
import type { EngineRecord, Evidence, RecordLine, SessionRow, TicketFile } from "./evidence.ts";

const T0 = Date.UTC(2026, 11, 3, 12);

function row(s: string, over: Partial<SessionRow> = {}): SessionRow {
  return {
    session_id: s,
    cp_id: "CP-01",
    driver_id: "D1",
    price_eur_kwh: 0.35,
    status: "ENDED",
    consumo_kwh: 0.5,
    importe_eur: 0.175,
    started_at: T0,
    ended_at: T0 + 4_000,
    end_reason: "COMPLETED",
    provisional: 0,
    settled_at: null,
    ...over,
  };
}

function supply(
  r: SessionRow,
  end: Partial<Extract<RecordLine, { kind: "end" }>> = {},
): RecordLine[] {
  const base = { session_id: r.session_id, cp_id: r.cp_id, driver_id: r.driver_id };
  return [
    { kind: "start", ...base, price_eur_kwh: r.price_eur_kwh, at: r.started_at + 10 },
    { kind: "meter", session_id: r.session_id, consumo_kwh: 0.1, seq: 0, at: r.started_at + 1_000 },
    {
      kind: "end",
      ...base,
      consumo_kwh: r.consumo_kwh,
      importe_eur: r.importe_eur,
      reason: r.end_reason as EndReason,
      ended_at: r.ended_at!,
      ...end,
    },
    { kind: "acked", session_id: r.session_id, at: r.ended_at! + 50 },
  ];
}

function ticket(r: SessionRow, over: Record<string, unknown> = {}): TicketFile {
  return {
    driver_id: r.driver_id,
    file: `${r.session_id}.json`,
    ticket: {
      driver_id: r.driver_id,
      session_id: r.session_id,
      cp_id: r.cp_id,
      price_eur_kwh: r.price_eur_kwh,
      consumo_kwh: r.consumo_kwh,
      importe_eur: r.importe_eur,
      status: r.status,
      reason: r.end_reason,
      ...over,
    },
  };
}

/** A consistent world: two sessions one after the other on CP-01, one on CP-02. */
function world(): Evidence {
  const a = row("S-a");
  const b = row("S-b", { started_at: T0 + 5_000, ended_at: T0 + 9_000, driver_id: "D2" });
  const c = row("S-c", {
    cp_id: "CP-02",
    price_eur_kwh: 0.5,
    consumo_kwh: 0.333,
    importe_eur: 0.167,
  });
  const records: EngineRecord[] = [
    { cp_id: "CP-01", file: "cp01.jsonl", lines: [...supply(a), ...supply(b)], bad: [] },
    { cp_id: "CP-02", file: "cp02.jsonl", lines: supply(c), bad: [] },
  ];
  return {
    rows: [a, b, c],
    records,
    tickets: [ticket(a), ticket(b), ticket(c)],
    centrals: [
      { instance: "central#1", writes: [T0, T0 + 3_000] },
      { instance: "central#2", writes: [T0 + 6_000, T0 + 9_000] },
    ],
  };
}

function only(verdicts: Verdict[], invariant: string): Verdict {
  for (const v of verdicts) {
    if (v.invariant !== invariant) assert.deepEqual(v.violations, [], `${v.invariant} should hold`);
  }
  return verdicts.find((v) => v.invariant === invariant)!;
}

Deno.test("checker: a consistent world passes, counting what it checked", () => {
  const verdicts = check(world());
  assert.ok(passed(verdicts, 3));
  assert.deepEqual(verdicts.map((v) => [v.invariant, v.checked]), [
    ["I1 energy", 3],
    ["I2 one owner", 3],
    ["I3 one ticket", 3],
    ["I4 nothing hangs", 3],
    ["I5 one Central", 2],
  ]);
});

Deno.test("checker: a run that checked no session fails", () => {
  const verdicts = check({ rows: [], records: [], tickets: [], centrals: [] });
  assert.equal(passed(verdicts, 0), false);
});

Deno.test("I1: the row's kWh differs from the engine's end (Central billed its own figure)", () => {
  const w = world();
  w.rows[0] = {
    ...w.rows[0],
    consumo_kwh: 0.111,
    importe_eur: 0.039,
    status: "ABORTED",
    end_reason: "TELEMETRY_TIMEOUT",
  };
  w.tickets[0] = ticket(w.rows[0]);
  const v = only(check(w), "I1 energy");
  assert.deepEqual(v.violations.map((x) => x.session), ["S-a", "S-a", "S-a"]);
  assert.match(
    v.violations[0].text,
    /row has 0.111 kWh, the engine delivered 0.5 kWh \(COMPLETED\)/,
  );
  assert.match(
    v.violations[1].text,
    /row ended TELEMETRY_TIMEOUT, the engine's record says COMPLETED/,
  );
  assert.match(v.violations[2].text, /row is ABORTED, the engine's COMPLETED makes it ENDED/);
});

Deno.test("I1: € not by the rule, a session no engine recorded, an end Central lacks, a bad line", () => {
  const w = world();
  w.rows[2] = { ...w.rows[2], importe_eur: 0.166 };
  w.tickets[2] = ticket(w.rows[2]);
  w.records![1].lines = w.records![1].lines.filter((l) => l.kind !== "end" && l.kind !== "acked");
  w.records![1].lines.push(
    ...supply(row("S-ghost", { cp_id: "CP-02", started_at: T0 + 20_000, ended_at: T0 + 21_000 })),
  );
  w.records![1].bad.push("line 9: not JSON");
  const v = check(w).find((x) => x.invariant === "I1 energy")!;
  const texts = v.violations.map((x) => `${x.session ?? "-"} ${x.text}`);
  assert.ok(
    texts.some((t) =>
      /^S-c row bills 0.166 € for 0.333 kWh at 0.5 €\/kWh; the rule gives 0.167 €/.test(t)
    ),
    texts.join("\n"),
  );
  assert.ok(texts.some((t) => /^S-c no end in any engine's record/.test(t)), texts.join("\n"));
  assert.ok(
    texts.some((t) =>
      /^S-ghost CP-02's engine recorded an end for a session Central does not have/.test(t)
    ),
  );
  assert.ok(texts.some((t) => /^- cp02.jsonl line 9: not JSON/.test(t)));
});

Deno.test("I1: without engine records the € rule is still checked, and a note says so", () => {
  const w = world();
  delete w.records;
  const v = only(check(w), "I1 energy");
  assert.deepEqual(v.violations, []);
  assert.match(v.notes.join(), /engine record not available/);
  w.rows[0] = { ...w.rows[0], importe_eur: 1 };
  assert.equal(check(w)[0].violations[0].session, "S-a");
});

Deno.test("I1: records that are all empty get a note (an engine that could not write)", () => {
  const w = world();
  for (const r of w.records!) r.lines = [];
  const v = check(w)[0];
  assert.match(v.notes.join(), /every engine's record is empty/);
  assert.equal(v.violations.length, 3);
});

Deno.test("I2: an engine supplying two sessions at once", () => {
  const w = world();
  // S-b starts at the engine 2 s before S-a's supply ended.
  const b = w.records![0].lines.find((l) => l.kind === "start" && l.session_id === "S-b")!;
  (b as { at: number }).at = T0 + 2_000;
  const v = only(check(w), "I2 one owner");
  assert.equal(v.violations.length, 1);
  assert.equal(v.violations[0].session, "S-b");
  assert.match(v.violations[0].text, /CP-01's engine supplied S-b from .* while S-a ran/);
});

Deno.test("I2: Central authorizing a CP while its previous session is unsettled", () => {
  const w = world();
  // S-a closed provisional at T0+4 s, settled by the engine's end only at T0+8 s; S-b at T0+5 s.
  w.rows[0] = { ...w.rows[0], settled_at: T0 + 8_000 };
  const v = only(check(w), "I2 one owner");
  assert.deepEqual(v.violations.map((x) => x.session), ["S-b"]);
  assert.match(v.violations[0].text, /authorized CP-01 for it at .* while S-a was unsettled/);
  // A RUNNING row keeps its CP busy for good (and is I4's violation too).
  const w2 = world();
  w2.rows[0] = { ...w2.rows[0], status: "RUNNING", ended_at: null };
  const v2 = check(w2).find((x) => x.invariant === "I2 one owner")!;
  assert.deepEqual(v2.violations.map((x) => x.session), ["S-b"]);
});

Deno.test("I3: missing, provisional-only, different, misplaced and unknown tickets", () => {
  const w = world();
  w.tickets = [
    ticket(w.rows[0], { provisional: true }),
    ticket(w.rows[1], { consumo_kwh: 0.292, reason: "DRIVER_CANCELLED" }),
    { ...ticket(w.rows[2]), driver_id: "D9" },
    { driver_id: "D1", file: "S-zzz.json", ticket: {} },
    { driver_id: "D1", file: "S-a.json", error: "not JSON" },
  ];
  const v = only(check(w), "I3 one ticket");
  const texts = v.violations.map((x) => `${x.session} ${x.text}`);
  assert.ok(texts.includes("S-a driver D1 has only a provisional ticket"), texts.join("\n"));
  assert.ok(
    texts.includes(
      'S-b ticket differs from the row: consumo_kwh 0.292 (row: 0.5), reason "DRIVER_CANCELLED" (row: "COMPLETED")',
    ),
    texts.join("\n"),
  );
  assert.ok(texts.includes("S-c its ticket is in D9's folder, not D1's"));
  assert.ok(texts.some((t) => t.startsWith("S-c driver D1 has no ticket for it")));
  assert.ok(texts.includes("S-zzz D1 kept a ticket for a session Central does not have"));
});

Deno.test("I4: RUNNING and provisional rows, engine supplies never ended or never acknowledged", () => {
  const w = world();
  w.rows[0] = { ...w.rows[0], provisional: 1 };
  w.rows[2] = { ...w.rows[2], status: "RUNNING", ended_at: null };
  w.records![0].lines = w.records![0].lines.filter((l) =>
    !(l.kind === "acked" && l.session_id === "S-b")
  );
  w.records![1].lines = w.records![1].lines.filter((l) => l.kind === "start");
  const v = check(w).find((x) => x.invariant === "I4 nothing hangs")!;
  assert.deepEqual(v.violations.map((x) => `${x.session} ${x.text}`), [
    "S-a still provisional (COMPLETED) on CP-01",
    "S-c still RUNNING on CP-02",
    "S-b CP-01's engine's end was never acknowledged by Central",
    "S-c CP-02's engine never ended it",
  ]);
});

Deno.test("I5: two Centrals writing at the same time; a hand-over is not one", () => {
  const w = world();
  // central#1 frozen, central#2 took over, then central#1 woke up and wrote again.
  w.centrals[0].writes.push(T0 + 7_000);
  const v = only(check(w), "I5 one Central");
  assert.equal(v.violations.length, 1);
  assert.match(
    v.violations[0].text,
    /central#1 and central#2 both wrote between 12:00:06.000 and 12:00:07.000/,
  );
  // Within the tolerance (log delivery), a hand-over is not a violation.
  const w2 = world();
  w2.centrals[0].writes.push(T0 + 6_200);
  assert.deepEqual(check(w2, { toleranceMs: 500 })[4].violations, []);
});
