/**
 * The four programs: entry point, binary name and the flags each needs (permissions, heap):
 * one list for the tests, the demo, the bench and `deno task compile`, so they all run the
 * same thing (deno.json's tasks and deploy/common.sh repeat it; a test checks they agree).
 *
 * @module
 */

/** A program of the system. */
export interface Program {
  binary: string;
  entry: string;
  /** `deno run` / `deno compile` flags: the permissions it needs, and V8 settings. */
  flags: string[];
  /** Modules loaded at run time, not imported (workers): `deno compile` must embed them. */
  include?: string[];
}

// kafkajs reads a few environment variables and the host name; the DB and requests/tickets
// files need read/write; nothing needs run, ffi or all-files access beyond that.
const KAFKA = ["--allow-net", "--allow-env", "--allow-sys=hostname,osRelease"];

/**
 * V8 lets the heap grow to about four times what is live when its limit is large (the
 * default is a share of the machine's memory): at 10,000 CPs Central's 70 MB of live objects
 * became 240 MB of old space and 60 MB of young. A 1 GiB limit makes V8 grow the heap by a
 * smaller factor, and still fits some 100,000 CPs; semi-spaces of 16 MB halve the young
 * generation without measurable cost (smaller ones promote more and slow Central down).
 */
const CENTRAL_HEAP = "--v8-flags=--max-old-space-size=1024,--max-semi-space-size=16";

/** Every program by short name. */
export const PROGRAMS = {
  central: {
    binary: "EV_Central",
    entry: "central/main.ts",
    flags: [...KAFKA, "--allow-read", "--allow-write", CENTRAL_HEAP],
    // The worker that checks CP secrets off the event loop.
    include: ["central/secret_worker.ts"],
  },
  monitor: {
    binary: "EV_CP_M",
    entry: "cp_monitor/main.ts",
    // It reads its engine's pairing file.
    flags: ["--allow-net", "--allow-env", "--allow-read"],
  },
  // The engine's record of what it delivered is a file.
  engine: {
    binary: "EV_CP_E",
    entry: "cp_engine/main.ts",
    flags: [...KAFKA, "--allow-read", "--allow-write"],
  },
  driver: {
    binary: "EV_Driver",
    entry: "driver/main.ts",
    flags: [...KAFKA, "--allow-read", "--allow-write"],
  },
} satisfies Record<string, Program>;

/** A program's short name. */
export type ProgramName = keyof typeof PROGRAMS;
