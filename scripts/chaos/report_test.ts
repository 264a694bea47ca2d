import assert from "node:assert/strict";
import { report } from "./report.ts";

const base = {
  seed: 1,
  replay: "deno task chaos --seed 1 --minutes 1",
  faults: [
    { id: 1, kind: "cut" as const, target: "cable pc3", atMs: 1, healMs: 2 },
    { id: 2, kind: "kill" as const, target: "central", atMs: 3, healMs: 4 },
    { id: 3, kind: "cut" as const, target: "cable pc3", atMs: 5, healMs: 6 },
  ],
  sessions: 2,
};

Deno.test("report: faults by kind and target, each invariant, and the replay command on failure", () => {
  const lines = report({
    ...base,
    passed: false,
    verdicts: [
      {
        invariant: "I1 energy",
        checked: 2,
        unit: "sessions",
        notes: ["engine record not available"],
        violations: [{ session: "S-1", text: "row has 0.1 kWh" }],
      },
      { invariant: "I5 one Central", checked: 1, unit: "Central runs", notes: [], violations: [] },
    ],
  });
  assert.deepEqual(lines, [
    "faults injected: 3 (cut 2, kill 1, pause 0)",
    "  by target: cable pc3 2, central 1",
    "sessions in the database: 2",
    "I1 energy: 2 sessions checked, 1 violation(s)",
    "  note: engine record not available",
    "  - session S-1: row has 0.1 kWh",
    "I5 one Central: 1 Central runs checked, 0 violation(s)",
    "FAIL: 1 violation(s) with seed 1; replay: deno task chaos --seed 1 --minutes 1",
  ]);
});

Deno.test("report: a pass, and a run with no session is a failure that says so", () => {
  assert.equal(
    report({ ...base, passed: true, verdicts: [] }).at(-1),
    "PASS: seed 1, 2 sessions, 3 faults, 0 violations",
  );
  assert.match(
    report({ ...base, sessions: 0, passed: false, verdicts: [] }).at(-1)!,
    /^FAIL: no session was checked with seed 1; replay: /,
  );
});
