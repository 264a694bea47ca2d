/**
 * One of the system's programs under the nemesis: started, killed -9 and started again with
 * the same arguments and data, frozen and thawed. Unlike the tests' harness it runs for a long
 * campaign, so its output goes to a log file per start (each line prefixed with the time the
 * campaign received it, in ms since the epoch) and only the last lines stay in memory.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ProgramName, PROGRAMS } from "../programs.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TAIL = 40;

/** How to start a program, and where. */
export interface ProgramSpec {
  program: ProgramName;
  args: string[];
  /** Command prefix, e.g. `ip netns exec <ns>` to run it on a host. */
  wrap: string[];
  cwd: string;
  env: Record<string, string>;
}

/** The command line that runs `spec`: `deno run` with the program's own permissions. */
export function commandOf(spec: ProgramSpec): string[] {
  const p = PROGRAMS[spec.program];
  return [
    ...spec.wrap,
    Deno.execPath(),
    "run",
    "--quiet",
    ...p.flags,
    join(ROOT, p.entry),
    ...spec.args,
  ];
}

/** A program the campaign starts, breaks and heals. */
export class ChaosProc {
  /** How many times it was started; its log of start n is {@link logFile}(n). */
  starts = 0;
  readonly tail: string[] = [];
  /** Called with each piece of output as it arrives (the driver's feeder watches its prompt). */
  onOutput: (text: string) => void = () => {};
  #child?: Deno.ChildProcess;
  #stdin?: WritableStreamDefaultWriter<Uint8Array>;
  #exited: Promise<unknown> = Promise.resolve();
  #alive = false;
  #waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  constructor(readonly name: string, readonly spec: ProgramSpec, readonly logDir: string) {}

  /** The log of its `n`th start. */
  logFile(n: number): string {
    return join(this.logDir, `${this.name.replace(/[^A-Za-z0-9_-]+/g, "_")}.${n}.log`);
  }

  /** Whether the process of the latest start is still there (frozen counts as there). */
  get alive(): boolean {
    return this.#alive;
  }

  /** Starts it (again): same arguments, same files. */
  start(): void {
    if (this.#alive) return;
    this.starts++;
    const log = Deno.openSync(this.logFile(this.starts), { create: true, append: true });
    const [command, ...args] = commandOf(this.spec);
    const child = new Deno.Command(command, {
      args,
      cwd: this.spec.cwd,
      env: { NO_COLOR: "1", ...this.spec.env },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#alive = true;
    const encoder = new TextEncoder();
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      let pending = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.onOutput(chunk);
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop()!;
        if (lines.length === 0) continue;
        const now = Date.now();
        log.writeSync(encoder.encode(lines.map((l) => `${now} ${l}\n`).join("")));
        for (const line of lines) this.#line(line);
      }
    };
    const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]).catch(() => {});
    this.#exited = child.status.then(async () => {
      await pumped;
      log.close();
      if (this.#child === child) this.#alive = false;
    });
  }

  #line(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL) this.tail.shift();
    for (const w of [...this.#waiters]) {
      if (w.re.test(line)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }

  /**
   * Resolves with a line matching `re`, among the last lines kept or to come; rejects after
   * `timeoutMs`, with its last lines.
   */
  waitFor(re: RegExp, timeoutMs = 60_000): Promise<string> {
    const seen = this.tail.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(
          new Error(
            `${this.name}: no line matching ${re} within ${timeoutMs} ms; last lines:\n  ${
              this.tail.slice(-8).join("\n  ")
            }`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        re,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Writes a line to its stdin; a process gone meanwhile is not an error. */
  async type(line: string): Promise<void> {
    await this.#stdin?.write(new TextEncoder().encode(line + "\n")).catch(() => {});
  }

  /** Sends `sig`; a process already gone is not an error. */
  signal(sig: Deno.Signal): void {
    try {
      this.#child?.kill(sig);
    } catch { /* gone */ }
  }

  /** kill -9, and waits until it is gone. */
  async kill(): Promise<void> {
    this.signal("SIGKILL");
    await this.#exited;
  }

  /** Ctrl+C (after a thaw, in case it is frozen); SIGKILL if it has not exited in `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.#alive) return;
    this.signal("SIGCONT");
    this.signal("SIGINT");
    const timer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
    await this.#stdin?.close().catch(() => {});
  }

  /** Resolves when the latest start has exited. */
  exited(): Promise<unknown> {
    return this.#exited;
  }
}
