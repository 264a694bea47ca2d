/**
 * `deno task chaos` options, and the command that replays a campaign. Pure.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** What a campaign runs. Every field that shapes the schedule is in {@link replayCommand}. */
export interface ChaosOptions {
  seed: number;
  minutes: number;
  cps: number;
  drivers: number;
  /** How long each supply lasts, in seconds (the engine's --duration). */
  supplySeconds: number;
  /** I4's bound: how long the system may take to be quiet once everything healed, in seconds. */
  settleSeconds: number;
  /** Start a second Central on the same database (needs the lease; see docs/chaos.md). */
  standby: boolean;
  /** Keep the campaign's folder (logs, database, records, tickets) even when it passes. */
  keep: boolean;
  /** Only print the schedule the seed draws, and exit (needs no root). */
  plan: boolean;
}

/** The usage text. */
export const USAGE = `deno task chaos --seed <n> --minutes <m> [options]

Runs the real programs on three network-namespace hosts under a seeded nemesis, then checks
the invariants of issue 15 (see docs/chaos.md). Needs root.

Options:
  --seed <n>          seed of the fault schedule (default: drawn from the clock, and printed)
  --minutes <m>       length of the fault schedule (default: 3; decimals allowed)
  --cps <n>           charging points, 1-9 (default: 4)
  --drivers <n>       drivers, 1-9 (default: 4)
  --supply <s>        seconds each supply lasts (default: 4)
  --settle <s>        once healed, how long the system may take to be quiet (default: 90)
  --standby           start a standby Central on the same database (once the lease is in)
  --keep              keep the campaign's folder even when it passes
  --plan              only print the fault schedule this seed draws, and exit
  --help, -h          show this help`;

function numberOption(
  name: string,
  text: string | undefined,
  fallback: number,
  check: (n: number) => boolean,
  want: string,
): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === "" || !check(n)) throw new Error(`--${name} must be ${want}, got "${text}"`);
  return n;
}

/** Parses the command line; throws an Error with a one-line message for anything wrong. */
export function parseOptions(args: string[], now = Date.now()): ChaosOptions | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        seed: { type: "string" },
        minutes: { type: "string" },
        cps: { type: "string" },
        drivers: { type: "string" },
        supply: { type: "string" },
        settle: { type: "string" },
        standby: { type: "boolean" },
        keep: { type: "boolean" },
        plan: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    throw new Error((e as Error).message.split("\n")[0]);
  }
  if (values.help) return "help";
  const isInt = (lo: number, hi: number) => (n: number) =>
    Number.isInteger(n) && n >= lo && n <= hi;
  return {
    seed: numberOption(
      "seed",
      values.seed,
      now % 1_000_000,
      isInt(0, 2 ** 32 - 1),
      "an integer 0-4294967295",
    ),
    minutes: numberOption(
      "minutes",
      values.minutes,
      3,
      (n) => n > 0 && n <= 24 * 60,
      "a number of minutes above 0",
    ),
    cps: numberOption("cps", values.cps, 4, isInt(1, 9), "an integer 1-9"),
    drivers: numberOption("drivers", values.drivers, 4, isInt(1, 9), "an integer 1-9"),
    supplySeconds: numberOption("supply", values.supply, 4, isInt(1, 600), "an integer 1-600"),
    settleSeconds: numberOption("settle", values.settle, 90, isInt(1, 3600), "an integer 1-3600"),
    standby: values.standby ?? false,
    keep: values.keep ?? false,
    plan: values.plan ?? false,
  };
}

/** The command that runs the same campaign again (same schedule, same workload). */
export function replayCommand(o: ChaosOptions): string {
  const parts = ["deno task chaos", `--seed ${o.seed}`, `--minutes ${o.minutes}`];
  if (o.cps !== 4) parts.push(`--cps ${o.cps}`);
  if (o.drivers !== 4) parts.push(`--drivers ${o.drivers}`);
  if (o.supplySeconds !== 4) parts.push(`--supply ${o.supplySeconds}`);
  if (o.settleSeconds !== 90) parts.push(`--settle ${o.settleSeconds}`);
  if (o.standby) parts.push("--standby");
  return parts.join(" ");
}
