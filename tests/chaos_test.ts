/**
 * Issue 15's chaos campaign, short: `deno task chaos --standby` on three network-namespace
 * hosts with a fixed seed must inject faults, check sessions and find no violation; a second
 * campaign runs with a seed that changes every day (printed, so a failure replays).
 *
 * Needs root and iproute2; elsewhere it is skipped with a message.
 */
import assert from "node:assert/strict";
import { hostsUnavailable } from "../scripts/chaos/hosts.ts";
import { ROOT } from "./harness.ts";

const unavailable = await hostsUnavailable();
if (unavailable) console.error(`chaos test skipped: ${unavailable}`);

/** Runs a campaign; resolves with its exit code and output. */
async function campaign(seed: number, minutes: number): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "chaos", "--seed", String(seed), "--minutes", String(minutes), "--standby"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, out: text };
}

function assertCampaignPassed(seed: number, { code, out }: { code: number; out: string }): void {
  const faults = Number(/^faults injected: (\d+)/m.exec(out)?.[1] ?? 0);
  const sessions = Number(/^sessions in the database: (\d+)/m.exec(out)?.[1] ?? 0);
  assert.ok(faults > 0, `seed ${seed}: no fault was injected\n${out}`);
  assert.ok(sessions > 0, `seed ${seed}: no session was checked\n${out}`);
  for (
    const invariant of [
      "I1 energy",
      "I2 one owner",
      "I3 one ticket",
      "I4 nothing hangs",
      "I5 one Central",
    ]
  ) {
    assert.match(
      out,
      new RegExp(`^${invariant}: \\d+ .* checked, 0 violation`, "m"),
      `seed ${seed}\n${out}`,
    );
  }
  assert.equal(code, 0, `seed ${seed}: the campaign failed\n${out}`);
}

Deno.test({
  name: "chaos: a two-minute campaign (seed 1) injects faults, checks sessions, finds no violation",
  ignore: unavailable !== undefined,
  fn: async () => {
    assertCampaignPassed(1, await campaign(1, 2));
  },
});

Deno.test({
  name: "chaos: a one-minute campaign with today's seed",
  ignore: unavailable !== undefined,
  fn: async () => {
    const seed = Math.floor(Date.now() / 86_400_000);
    console.log(
      `today's chaos seed: ${seed} (replay: deno task chaos --seed ${seed} --minutes 1 --standby)`,
    );
    assertCampaignPassed(seed, await campaign(seed, 1));
  },
});
