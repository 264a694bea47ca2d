/**
 * The four programs: entry point, binary name and the permissions each needs — one list
 * for the tests, the demo and `deno task compile`, so they all run the same thing.
 *
 * @module
 */

/** A program of the system. */
export interface Program {
  binary: string;
  entry: string;
  permissions: string[];
}

// kafkajs reads a few environment variables and the host name; the DB and requests/tickets
// files need read/write; nothing needs run, ffi or all-files access beyond that.
const KAFKA = ["--allow-net", "--allow-env", "--allow-sys=hostname,osRelease"];

/** Every program by short name. */
export const PROGRAMS = {
  central: {
    binary: "EV_Central",
    entry: "central/main.ts",
    permissions: [...KAFKA, "--allow-read", "--allow-write"],
  },
  monitor: {
    binary: "EV_CP_M",
    entry: "cp_monitor/main.ts",
    permissions: ["--allow-net", "--allow-env"],
  },
  engine: { binary: "EV_CP_E", entry: "cp_engine/main.ts", permissions: KAFKA },
  driver: {
    binary: "EV_Driver",
    entry: "driver/main.ts",
    permissions: [...KAFKA, "--allow-read", "--allow-write"],
  },
} satisfies Record<string, Program>;

/** A program's short name. */
export type ProgramName = keyof typeof PROGRAMS;
