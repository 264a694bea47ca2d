/**
 * Samples the CPU of a Deno process started with `--inspect=127.0.0.1:<port>`, over the
 * Chrome DevTools protocol, and sums self time per function: the bench uses it to show where
 * Central spends its time at each step (`deno task bench --profile`).
 *
 * @module
 */

/** A V8 CPU profile, as `Profiler.stop` returns it (and DevTools opens as .cpuprofile). */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One function's share of the samples. */
export interface HotSpot {
  fn: string;
  selfPct: number;
}

/** A profiling session on one inspector port. */
export class CpuProfiler {
  #ws?: WebSocket;
  #seq = 0;
  readonly #waiting = new Map<number, (result: unknown) => void>();

  constructor(readonly port: number) {}

  async #call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#seq;
    const answer = new Promise((r) => this.#waiting.set(id, r));
    this.#ws!.send(JSON.stringify({ id, method, params }));
    return await answer;
  }

  /** Connects to the inspector and starts sampling every `intervalUs` microseconds. */
  async start(intervalUs = 1000): Promise<void> {
    const [target] = await (await fetch(`http://127.0.0.1:${this.port}/json/list`)).json();
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    this.#ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      this.#waiting.get(msg.id)?.(msg.result);
      this.#waiting.delete(msg.id);
    };
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`no inspector on port ${this.port}`));
    });
    await this.#call("Profiler.enable");
    await this.#call("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.#call("Profiler.start");
  }

  /** Stops sampling and returns the profile. */
  async stop(): Promise<CpuProfile> {
    const { profile } = (await this.#call("Profiler.stop")) as { profile: CpuProfile };
    this.#ws?.close();
    return profile;
  }
}

/** The functions with the most self time, with their share of all samples. */
export function hotSpots(profile: CpuProfile, top = 15): HotSpot[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    const f = byNode.get(id)!.callFrame;
    const file = f.url.split("/").slice(-2).join("/");
    const name = `${f.functionName || "(anonymous)"} ${file}${file ? `:${f.lineNumber + 1}` : ""}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const total = profile.samples.length || 1;
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, n]) => ({ fn, selfPct: Number(((100 * n) / total).toFixed(1)) }));
}
