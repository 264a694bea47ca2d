/**
 * A program the demo started without tmux: its output lines go to a sink (the console with
 * its name in front, or a log file) and are kept, so the scripted scenarios can wait for them.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { eventually } from "../shared/process/eventually.ts";
import { lines } from "../shared/term/input.ts";
import { type ProgramName, PROGRAMS } from "./programs.ts";

/** The repository root: the programs' working folder. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The `deno run` command line of one of the four programs, as its binary would run. */
export function commandLine(program: ProgramName, args: string[]): string[] {
  const p = PROGRAMS[program];
  return [Deno.execPath(), "run", "--quiet", ...p.flags, join(ROOT, p.entry), ...args];
}

/** Where a program's lines go. */
export type LineSink = (line: string) => void;

/** A line sink that appends to `path` (created, or truncated); `close` when done. */
export function fileSink(path: string): { sink: LineSink; close(): void } {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  return {
    // Synchronous, so that lines stay in order and a failing demo's log is complete.
    sink: (line) => void file.writeSync(encoder.encode(line + "\n")),
    close: () => file.close(),
  };
}

/** One running program. */
export class DemoProcess {
  readonly lines: string[] = [];
  readonly status: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  #stdin?: WritableStreamDefaultWriter<Uint8Array>;
  #exited = false;

  /** Starts `program`; with `stdin`, {@link type} writes lines to it. */
  constructor(
    readonly name: string,
    program: ProgramName,
    args: string[],
    sink: LineSink,
    options: { stdin?: boolean } = {},
  ) {
    const [cmd, ...argv] = commandLine(program, args);
    this.#child = new Deno.Command(cmd, {
      args: argv,
      cwd: ROOT,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin) this.#stdin = this.#child.stdin.getWriter();
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      for await (const line of lines(stream)) {
        if (!line) continue;
        this.lines.push(line);
        sink(line);
      }
    };
    const drained = Promise.all([pump(this.#child.stdout), pump(this.#child.stderr)]);
    this.status = this.#child.status.then(async (s) => {
      this.#exited = true;
      await drained;
      sink(`(exited with code ${s.code}${s.signal ? `, ${s.signal}` : ""})`);
      return s;
    });
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether it is still running. */
  get running(): boolean {
    return !this.#exited;
  }

  /**
   * The first line matching `re` from line `from` on (seen or to come); throws when the
   * program exits without it or `timeoutMs` passes, naming what was awaited.
   */
  waitFor(re: RegExp, timeoutMs: number, from = 0): Promise<string> {
    return eventually(
      `${this.name} to print ${re}`,
      () => {
        const line = this.lines.slice(from).find((l) => re.test(l));
        if (line === undefined && this.#exited) {
          throw new Error(`${this.name} exited without printing ${re}`);
        }
        return line;
      },
      timeoutMs,
      100,
    );
  }

  /** Types a line on its stdin, as a person at its keyboard would. */
  async type(line: string): Promise<void> {
    await this.#stdin?.write(new TextEncoder().encode(line + "\n"));
  }

  /** Sends a signal (nothing when it is gone already). */
  signal(sig: Deno.Signal): void {
    try {
      this.#child.kill(sig);
    } catch { /* already exited */ }
  }

  /** Ctrl+C, then SIGKILL when it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<Deno.CommandStatus> {
    this.signal("SIGINT");
    const timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    try {
      return await this.status;
    } finally {
      clearTimeout(timer);
      await this.#stdin?.close().catch(() => {});
      this.#stdin = undefined;
    }
  }
}
