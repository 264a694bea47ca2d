/**
 * The nemesis's plan: a seeded schedule of faults, each with its heal. Pure: the same seed and
 * targets give the same schedule, which is what lets a failed campaign replay.
 *
 * @module
 */
import { intBetween, mulberry32, pick } from "./prng.ts";

/** What a fault does: pull a host's cable, kill -9 a process (healed by a restart), freeze it. */
export type FaultKind = "cut" | "kill" | "pause";

/** Something the nemesis can break, and how. */
export interface Target {
  /** e.g. "cable pc3", "central", "engine CP-02". */
  name: string;
  kinds: readonly FaultKind[];
}

/** One fault: injected at `atMs`, healed at `healMs` (both from the campaign's start). */
export interface Fault {
  id: number;
  kind: FaultKind;
  target: string;
  atMs: number;
  healMs: number;
}

/** How a schedule is drawn. */
export interface ScheduleOptions {
  seed: number;
  /** The campaign's length: every fault is healed by then. */
  durationMs: number;
  targets: readonly Target[];
  /** No fault before this: the workload gets going first. */
  warmupMs?: number;
  /** Pause between two injections, drawn in [min, max]. */
  gapMs?: readonly [number, number];
  /** A short fault lasts [min, max]; a long one outlasts every timeout of the system (10 s). */
  shortMs?: readonly [number, number];
  longMs?: readonly [number, number];
  /** Share of long faults, in [0, 1]. */
  longShare?: number;
}

/**
 * The faults of a campaign, by injection time. A target is never faulted again before its
 * previous fault is healed; targets busy at a draw are skipped, so faults on different targets
 * overlap freely (a crash during a partition, a restart while the broker is away).
 */
export function schedule(opts: ScheduleOptions): Fault[] {
  const random = mulberry32(opts.seed);
  const [gapMin, gapMax] = opts.gapMs ?? [2_000, 8_000];
  const [shortMin, shortMax] = opts.shortMs ?? [1_000, 6_000];
  const [longMin, longMax] = opts.longMs ?? [12_000, 25_000];
  const longShare = opts.longShare ?? 0.3;
  const healedAt = new Map<string, number>();
  const faults: Fault[] = [];
  let t = opts.warmupMs ?? 5_000;
  while (true) {
    t += intBetween(random, gapMin, gapMax);
    if (t >= opts.durationMs - 1_000) break;
    const free = opts.targets.filter((x) => x.kinds.length > 0 && (healedAt.get(x.name) ?? 0) <= t);
    if (free.length === 0) continue;
    const target = pick(random, free);
    const kind = pick(random, target.kinds);
    const long = random() < longShare;
    const length = long
      ? intBetween(random, longMin, longMax)
      : intBetween(random, shortMin, shortMax);
    const healMs = Math.min(t + length, opts.durationMs);
    faults.push({ id: faults.length + 1, kind, target: target.name, atMs: t, healMs });
    healedAt.set(target.name, healMs);
  }
  return faults;
}

/** A step of the plan: a fault injected or healed. */
export interface Step {
  atMs: number;
  action: "inject" | "heal";
  fault: Fault;
}

/** The schedule as steps in time order; at equal times heals come first, freeing the target. */
export function steps(faults: readonly Fault[]): Step[] {
  const all: Step[] = faults.flatMap((fault) => [
    { atMs: fault.atMs, action: "inject" as const, fault },
    { atMs: fault.healMs, action: "heal" as const, fault },
  ]);
  return all.sort((a, b) =>
    a.atMs - b.atMs ||
    (a.action === b.action ? a.fault.id - b.fault.id : a.action === "heal" ? -1 : 1)
  );
}

/** How many faults of each kind, e.g. `{ cut: 3, kill: 5, pause: 2 }`. */
export function countByKind(faults: readonly Pick<Fault, "kind">[]): Record<FaultKind, number> {
  const counts: Record<FaultKind, number> = { cut: 0, kill: 0, pause: 0 };
  for (const f of faults) counts[f.kind]++;
  return counts;
}

/** A fault as one log line: `#3 kill central at 12.345 s, healed at 20.000 s`. */
export function describeFault(f: Fault): string {
  return `#${f.id} ${f.kind} ${f.target} at ${(f.atMs / 1000).toFixed(3)} s, healed at ${
    (f.healMs / 1000).toFixed(3)
  } s`;
}
