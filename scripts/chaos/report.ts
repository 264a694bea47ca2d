/**
 * The campaign's closing report: per invariant what was checked and what was wrong, the faults
 * by kind and target, and — when it fails — the seed and the command that replays it. Pure.
 *
 * @module
 */
import type { Verdict } from "./checker.ts";
import { countByKind, type Fault } from "./schedule.ts";

/** Violations printed per invariant; the rest are counted (all are in the campaign folder). */
const SHOWN = 25;

/** What the report is made of. */
export interface ReportInput {
  seed: number;
  replay: string;
  faults: readonly Fault[];
  sessions: number;
  verdicts: readonly Verdict[];
  passed: boolean;
}

/** The report's lines. */
export function report(r: ReportInput): string[] {
  const kinds = countByKind(r.faults);
  const byTarget = new Map<string, number>();
  for (const f of r.faults) byTarget.set(f.target, (byTarget.get(f.target) ?? 0) + 1);
  const lines = [
    `faults injected: ${r.faults.length} (${
      Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(", ")
    })`,
    `  by target: ${[...byTarget].map(([t, n]) => `${t} ${n}`).join(", ") || "none"}`,
    `sessions in the database: ${r.sessions}`,
  ];
  for (const v of r.verdicts) {
    lines.push(
      `${v.invariant}: ${v.checked} ${v.unit} checked, ${v.violations.length} violation(s)`,
    );
    for (const note of v.notes) lines.push(`  note: ${note}`);
    for (const x of v.violations.slice(0, SHOWN)) {
      lines.push(`  - ${x.session ? `session ${x.session}: ` : ""}${x.text}`);
    }
    if (v.violations.length > SHOWN) lines.push(`  … and ${v.violations.length - SHOWN} more`);
  }
  const total = r.verdicts.reduce((n, v) => n + v.violations.length, 0);
  if (r.passed) {
    lines.push(
      `PASS: seed ${r.seed}, ${r.sessions} sessions, ${r.faults.length} faults, 0 violations`,
    );
  } else {
    const why = r.sessions === 0 ? "no session was checked" : `${total} violation(s)`;
    lines.push(`FAIL: ${why} with seed ${r.seed}; replay: ${r.replay}`);
  }
  return lines;
}
