import assert from "node:assert/strict";
import {
  countByKind,
  describeFault,
  type Fault,
  schedule,
  steps,
  type Target,
} from "./schedule.ts";

const TARGETS: Target[] = [
  { name: "cable pc1", kinds: ["cut"] },
  { name: "cable pc3", kinds: ["cut"] },
  { name: "central", kinds: ["kill", "pause"] },
  { name: "broker", kinds: ["kill", "pause"] },
  { name: "engine CP-01", kinds: ["kill", "pause"] },
  { name: "driver D1", kinds: ["kill", "pause"] },
];
const TEN_MINUTES = 600_000;

Deno.test("schedule: the same seed gives the same schedule, another seed another", () => {
  const a = schedule({ seed: 1, durationMs: TEN_MINUTES, targets: TARGETS });
  assert.deepEqual(schedule({ seed: 1, durationMs: TEN_MINUTES, targets: TARGETS }), a);
  assert.notDeepEqual(schedule({ seed: 2, durationMs: TEN_MINUTES, targets: TARGETS }), a);
  assert.ok(a.length > 50, `only ${a.length} faults in ten minutes`);
});

Deno.test("schedule: every fault heals after it starts and by the end, after the warm-up", () => {
  for (const seed of [1, 2, 3, 99, 123456]) {
    const faults = schedule({ seed, durationMs: 60_000, targets: TARGETS, warmupMs: 5_000 });
    assert.ok(faults.length > 0);
    for (const f of faults) {
      assert.ok(f.atMs > 5_000, describeFault(f));
      assert.ok(f.healMs > f.atMs, describeFault(f));
      assert.ok(f.healMs <= 60_000, describeFault(f));
      const target = TARGETS.find((t) => t.name === f.target)!;
      assert.ok(target.kinds.includes(f.kind), describeFault(f));
    }
  }
});

Deno.test("schedule: no two faults overlap on the same target; other targets do overlap", () => {
  const faults = schedule({ seed: 5, durationMs: TEN_MINUTES, targets: TARGETS, longShare: 0.8 });
  const byTarget = Map.groupBy(faults, (f) => f.target);
  for (const list of byTarget.values()) {
    for (let i = 1; i < list.length; i++) {
      assert.ok(
        list[i].atMs >= list[i - 1].healMs,
        `${describeFault(list[i - 1])} / ${describeFault(list[i])}`,
      );
    }
  }
  const overlapping = faults.some((f, i) => faults.slice(i + 1).some((g) => g.atMs < f.healMs));
  assert.ok(overlapping, "long faults on different targets should overlap sometimes");
  assert.ok(
    faults.some((f) => f.healMs - f.atMs > 10_000),
    "some faults outlast the 10 s timeouts",
  );
  assert.deepEqual(new Set(faults.map((f) => f.kind)), new Set(["cut", "kill", "pause"]));
});

Deno.test("steps: each heal follows its injection; at equal times heals come first", () => {
  const faults: Fault[] = [
    { id: 1, kind: "kill", target: "central", atMs: 1_000, healMs: 3_000 },
    { id: 2, kind: "pause", target: "central", atMs: 3_000, healMs: 4_000 },
  ];
  assert.deepEqual(
    steps(faults).map((s) => `${s.atMs} ${s.action} #${s.fault.id}`),
    ["1000 inject #1", "3000 heal #1", "3000 inject #2", "4000 heal #2"],
  );
  const many = steps(schedule({ seed: 9, durationMs: TEN_MINUTES, targets: TARGETS }));
  for (const [i, s] of many.entries()) {
    if (i > 0) assert.ok(many[i - 1].atMs <= s.atMs);
    if (s.action === "heal") {
      assert.ok(many.findIndex((x) => x.fault === s.fault && x.action === "inject") < i);
    }
  }
});

Deno.test("countByKind counts each kind; describeFault names fault, target and times", () => {
  assert.deepEqual(countByKind([{ kind: "cut" }, { kind: "kill" }, { kind: "cut" }]), {
    cut: 2,
    kill: 1,
    pause: 0,
  });
  assert.equal(
    describeFault({ id: 3, kind: "kill", target: "central", atMs: 12_345, healMs: 20_000 }),
    "#3 kill central at 12.345 s, healed at 20.000 s",
  );
});
