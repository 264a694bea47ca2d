import assert from "node:assert/strict";
import { type ChaosOptions, parseOptions, replayCommand } from "./options.ts";

Deno.test("parseOptions: defaults, a seed from the clock, and every option", () => {
  assert.deepEqual(parseOptions([], 1_234_567_890), {
    seed: 567_890,
    minutes: 3,
    cps: 4,
    drivers: 4,
    supplySeconds: 4,
    settleSeconds: 90,
    standby: false,
    keep: false,
    plan: false,
  });
  const o = parseOptions([
    "--seed",
    "7",
    "--minutes",
    "0.5",
    "--cps",
    "2",
    "--drivers",
    "3",
    "--supply",
    "5",
    "--settle",
    "30",
    "--standby",
    "--keep",
    "--plan",
  ]);
  assert.deepEqual(o, {
    seed: 7,
    minutes: 0.5,
    cps: 2,
    drivers: 3,
    supplySeconds: 5,
    settleSeconds: 30,
    standby: true,
    keep: true,
    plan: true,
  });
  assert.equal(parseOptions(["-h"]), "help");
});

Deno.test("parseOptions: each bad input is a one-line error", () => {
  for (
    const [args, message] of [
      [["--seed", "x"], /--seed must be an integer 0-4294967295, got "x"/],
      [["--seed=-1"], /--seed must be/],
      [["--minutes", "0"], /--minutes must be a number of minutes above 0, got "0"/],
      [["--cps", "10"], /--cps must be an integer 1-9/],
      [["--drivers", ""], /--drivers must be/],
      [["--bogus"], /Unknown option '--bogus'/],
      [["stray"], /stray/],
    ] as const
  ) {
    assert.throws(
      () => parseOptions([...args]),
      (e: Error) => message.test(e.message) && !e.message.includes("\n"),
    );
  }
});

Deno.test("replayCommand names every option that shapes the campaign", () => {
  const base = parseOptions(["--seed", "1", "--minutes", "1"]) as ChaosOptions;
  assert.equal(replayCommand(base), "deno task chaos --seed 1 --minutes 1");
  assert.equal(
    replayCommand({ ...base, cps: 2, standby: true, keep: true }),
    "deno task chaos --seed 1 --minutes 1 --cps 2 --standby",
  );
});
