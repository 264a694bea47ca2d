/**
 * The campaign's targets: what the nemesis may break. Pure, and in a fixed order (never the
 * order in which programs came up), so that a seed always draws the same schedule.
 *
 * @module
 */
import type { Target } from "./schedule.ts";

/** The CP ids (CP-01…) and driver ids (D1…) of a campaign of `cps` CPs and `drivers` drivers. */
export function campaignIds(o: { cps: number; drivers: number }): {
  cpIds: string[];
  driverIds: string[];
} {
  return {
    cpIds: Array.from({ length: o.cps }, (_, i) => `CP-${String(i + 1).padStart(2, "0")}`),
    driverIds: Array.from({ length: o.drivers }, (_, i) => `D${i + 1}`),
  };
}

/** Names of the programs a campaign runs: Central, the standby, each CP's engine and monitor, each driver. */
export function programNames(
  cpIds: readonly string[],
  driverIds: readonly string[],
  standby: boolean,
): string[] {
  return [
    "central",
    ...(standby ? ["standby"] : []),
    ...cpIds.flatMap((cp) => [`engine ${cp}`, `monitor ${cp}`]),
    ...driverIds.map((d) => `driver ${d}`),
  ];
}

/** Every host's cable (cut), the broker and every program (kill -9, freeze). */
export function campaignTargets(
  cpIds: readonly string[],
  driverIds: readonly string[],
  standby: boolean,
): Target[] {
  const process = ["kill", "pause"] as const;
  return [
    ...["pc1", "pc2", "pc3"].map((h) => ({ name: `cable ${h}`, kinds: ["cut"] as const })),
    { name: "broker", kinds: process },
    ...programNames(cpIds, driverIds, standby).map((name) => ({ name, kinds: process })),
  ];
}
