/**
 * The demo's network as command lines: Central, an engine and a monitor per demo CP, and the
 * drivers — one list for the tmux panes, the prefixed output and the scripted scenarios.
 *
 * @module
 */
import { join } from "node:path";
import type { ProgramName } from "./programs.ts";
import { DEMO_CPS, type DemoConfig } from "./demo_options.ts";
import { ROOT } from "./demo_process.ts";

/** The web panel's operator token in the demo (a real deployment picks its own). */
export const DEMO_TOKEN = "demo";

/** One program to start: a name for people, which program, its arguments. */
export interface ProgramLine {
  name: string;
  program: ProgramName;
  args: string[];
}

/** A demo CP's engine and monitor. */
export interface CpLines {
  id: string;
  engine: ProgramLine;
  monitor: ProgramLine;
}

/** Central, then each CP's engine and monitor; `durationS(id)` is how long its supplies last. */
export function networkLines(
  config: DemoConfig,
  db: string,
  durationS: (cpId: string) => number,
): { central: ProgramLine; cps: CpLines[] } {
  const central: ProgramLine = {
    name: "central",
    program: "central",
    args: [
      String(config.centralPort),
      config.kafka,
      db,
      "--http",
      String(config.httpPort),
      "--token",
      DEMO_TOKEN,
    ],
  };
  const cps = DEMO_CPS.map((cp, i): CpLines => ({
    id: cp.id,
    engine: {
      name: `engine ${cp.id}`,
      program: "engine",
      args: [config.kafka, String(config.enginePorts[i]), "--duration", String(durationS(cp.id))],
    },
    monitor: {
      name: `monitor ${cp.id}`,
      program: "monitor",
      // The engine's health port listens on loopback: its monitor runs on the same machine.
      args: [
        `127.0.0.1:${config.enginePorts[i]}`,
        `127.0.0.1:${config.centralPort}`,
        cp.id,
        "--location",
        cp.location,
        "--price",
        cp.price,
      ],
    },
  }));
  return { central, cps };
}

/** A driver requesting a charge at each CP of `requestsFile`; tickets into `ticketsDir` if given. */
export function driverLine(
  config: DemoConfig,
  driverId: string,
  requestsFile: string,
  ticketsDir?: string,
): ProgramLine {
  return {
    name: `driver ${driverId}`,
    program: "driver",
    args: [
      config.kafka,
      driverId,
      "--file",
      requestsFile,
      ...(ticketsDir ? ["--tickets", ticketsDir] : []),
    ],
  };
}

/** The sample requests file of a demo driver (`demo/requests_<id>.txt`). */
export function sampleRequests(driverId: string): string {
  return join(ROOT, "demo", `requests_${driverId}.txt`);
}
