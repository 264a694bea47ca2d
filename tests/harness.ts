/**
 * The end-to-end test harness: a real Kafka broker (EV_KAFKA_BROKER, or one started once
 * per test process), the real programs spawned with `deno run` exactly as their binaries
 * run, waiting on their output with deadlines, and everything stopped at the end — with the
 * programs' logs printed when a test fails.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { Kafka, logLevel } from "kafkajs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Broker, freePort, startBroker } from "../scripts/broker.ts";
import { grantNetwork, type RoleCredentials } from "../scripts/kafka/secure.ts";
import { type ProgramName, PROGRAMS } from "../scripts/programs.ts";
import { eventually } from "../shared/process/eventually.ts";
import { parseControlMessage, type Ticket } from "../shared/protocol/messages.ts";
import { pairingKey, pairingProof } from "../shared/protocol/pairing.ts";
import { macKey, signedHeaders } from "../shared/protocol/record_mac.ts";
import { readPairingFile } from "../shared/process/pairing_file.ts";

export { eventually };

/** The repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

let sharedBroker: Promise<string> | undefined;
let ownBroker: Broker | undefined;

/** The broker's bootstrap address: EV_KAFKA_BROKER, or a broker started for this process. */
export function broker(): Promise<string> {
  const given = Deno.env.get("EV_KAFKA_BROKER");
  if (given) return Promise.resolve(given);
  sharedBroker ??= (async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "ev-test-kafka-" });
    ownBroker = await startBroker({ port: freePort(), dataDir });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.kill(ownBroker!.pid, "SIGKILL");
      } catch { /* gone */ }
    });
    return ownBroker.bootstrap;
  })();
  return sharedBroker;
}

let sharedSecure: Promise<Broker> | undefined;

/**
 * A secure broker (SASL/SCRAM and ACLs, scripts/kafka/secure.ts) started once per test process,
 * beside the plaintext one; each scenario on it gets its network's topics and ACLs
 * ({@link withSecureScenario}).
 */
export function secureBroker(): Promise<Broker> {
  sharedSecure ??= (async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "ev-test-kafka-secure-" });
    const b = await startBroker({ port: freePort(), dataDir, secure: true, prefixes: [] });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.kill(b.pid, "SIGKILL");
      } catch { /* gone */ }
      // Its password files too: nothing of a test's secure broker outlives the test.
      try {
        Deno.removeSync(dataDir, { recursive: true });
      } catch { /* a file still held: the temp folder's cleaner gets it */ }
    });
    return b;
  })();
  return sharedSecure;
}

/** A TCP port that is free right now on loopback. */
export { freePort };

/** A spawned program whose output lines are collected. */
export class Proc {
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #waiters: {
    re: RegExp;
    resolve: (line: string) => void;
    reject: (e: Error) => void;
  }[] = [];
  readonly status: Promise<Deno.CommandStatus>;
  #stdin?: WritableStreamDefaultWriter<Uint8Array>;
  #exited = false;

  /** Whether the process is still running. */
  get running(): boolean {
    return !this.#exited;
  }

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
    cwd: string,
    wrap: string[] = [],
  ) {
    const [command, ...prefix] = [...wrap, Deno.execPath()];
    this.#child = new Deno.Command(command, {
      args: [...prefix, ...args],
      env: { NO_COLOR: "1", ...env },
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    const pump = (stream: ReadableStream<Uint8Array>, tag: string) =>
      stream.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({
          write: (() => {
            let pending = "";
            return (chunk: string) => {
              pending += chunk;
              const parts = pending.split("\n");
              pending = parts.pop()!;
              for (const line of parts) this.#line(tag, line);
            };
          })(),
        }),
      ).catch(() => {});
    const done = Promise.all([pump(this.#child.stdout, "out"), pump(this.#child.stderr, "err")]);
    this.status = this.#child.status.then(async (s) => {
      this.#exited = true;
      await done;
      this.#code = s.code;
      // Every line is in: whoever still waits would wait in vain.
      for (const w of this.#waiters.splice(0)) w.reject(this.#missing(w.re, "before it exited"));
      return s;
    });
  }

  #code?: number;

  // Names what was awaited and shows the last lines, so that a CI log alone tells why.
  #missing(re: RegExp, when: string): Error {
    const exit = this.#code === undefined ? "" : ` (exit code ${this.#code})`;
    const tail = this.lines.slice(-8).map((l) => `\n    ${l}`).join("");
    return new Error(`${this.name}${exit}: no line matching ${re} ${when}; last lines:${tail}`);
  }

  #line(tag: string, line: string): void {
    this.lines.push(`${tag}| ${line}`);
    for (const w of [...this.#waiters]) {
      if (w.re.test(line)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }

  /** Output lines (stdout and stderr) without their tags. */
  get output(): string[] {
    return this.lines.map((l) => l.slice(5));
  }

  /** Where the output is now: pass it to {@link waitFor} to match only later lines. */
  mark(): number {
    return this.lines.length;
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Resolves with the first line (seen so far or to come) matching `re`; rejects after
   * `timeoutMs`, or as soon as the program exits without it, naming what was awaited.
   */
  waitFor(re: RegExp, timeoutMs = 30_000, from = 0): Promise<string> {
    const seen = this.output.slice(from).find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#code !== undefined) return Promise.reject(this.#missing(re, "before it exited"));
    return new Promise((resolve, reject) => {
      const waiter = {
        re,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(this.#missing(re, `within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Sends a line to the program's stdin. */
  async type(line: string): Promise<void> {
    await this.#stdin?.write(new TextEncoder().encode(line + "\n"));
  }

  /** Sends a signal (no-op when already gone). */
  signal(sig: Deno.Signal): void {
    try {
      this.#child.kill(sig);
    } catch { /* already exited */ }
  }

  /** Waits for the exit, or rejects after `timeoutMs`. */
  async exit(timeoutMs = 30_000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.status, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ctrl+C, then SIGKILL if it does not exit in time. */
  async stop(timeoutMs = 10_000): Promise<Deno.CommandStatus> {
    this.signal("SIGINT");
    try {
      return await this.exit(timeoutMs);
    } catch {
      this.signal("SIGKILL");
      return await this.status;
    } finally {
      await this.#stdin?.close().catch(() => {});
      this.#stdin = undefined;
    }
  }
}

/** One test's world: unique topics, a temp folder, the programs it spawned. */
export class Scenario {
  readonly procs: Proc[] = [];
  readonly env: Record<string, string>;
  /**
   * On a secure broker: each program logs in as its role's user (EV_KAFKA_USER and
   * EV_KAFKA_PASSWORD in its environment); the monitor has no Kafka client.
   */
  credentials?: RoleCredentials;

  constructor(readonly bootstrap: string, readonly dir: string) {
    this.env = {
      EV_TOPIC_PREFIX: `t${crypto.randomUUID().slice(0, 8)}_`,
      // Engines leave their pairing secrets here, for their monitors (and the tests) to read.
      EV_PAIRING_DIR: join(dir, "pairing"),
    };
  }

  /** The pairing proof for `cpId` under the secret of this scenario's engine on `enginePort`. */
  async pairingProof(enginePort: number, cpId: string): Promise<string> {
    const secret = await readPairingFile(enginePort, this.env.EV_PAIRING_DIR);
    if (!secret) throw new Error(`no pairing file for the engine on port ${enginePort}`);
    return pairingProof(await pairingKey(secret), cpId);
  }

  /**
   * Spawns one of the four programs with `deno run` and its own permissions; `wrap` prefixes
   * the command (e.g. `ip netns exec pc3` to run it on a test host).
   */
  spawn(program: ProgramName, args: string[], name: string = program, wrap: string[] = []): Proc {
    const p = PROGRAMS[program];
    const login = program === "monitor" ? undefined : this.credentials?.[program];
    const env = login
      ? { ...this.env, EV_KAFKA_USER: login.username, EV_KAFKA_PASSWORD: login.password }
      : this.env;
    const proc = new Proc(
      name,
      ["run", "--quiet", ...p.flags, join(ROOT, p.entry), ...args],
      env,
      this.dir,
      wrap,
    );
    this.procs.push(proc);
    return proc;
  }

  /** Starts Central and waits until it listens. */
  async central(port: number, dbPath: string, extra: string[] = []): Promise<Proc> {
    const c = this.spawn("central", [String(port), this.bootstrap, dbPath, ...extra], "central");
    await c.waitFor(/listening for monitors on port/);
    return c;
  }

  /** Starts an engine and waits until it consumes its orders. */
  async engine(port: number, extra: string[] = [], name = "engine"): Promise<Proc> {
    const e = this.spawn("engine", [this.bootstrap, String(port), ...extra], name);
    await e.waitFor(/health checks on port/);
    return e;
  }

  /** Starts a monitor and waits until Central welcomed it. */
  async monitor(
    enginePort: number,
    centralPort: number,
    cpId: string,
    extra: string[] = [],
  ): Promise<Proc> {
    const m = this.spawn(
      "monitor",
      [`127.0.0.1:${enginePort}`, `127.0.0.1:${centralPort}`, cpId, ...extra],
      `monitor ${cpId}`,
    );
    await m.waitFor(/linked to Central/);
    return m;
  }

  /**
   * Starts Central and one engine + monitor per CP id, all in parallel, and waits until
   * Central shows every CP. Returns the processes and ports.
   */
  async network(
    cpIds: string[],
    opts: { engineArgs?: string[]; centralArgs?: string[]; monitorArgs?: string[] } = {},
  ): Promise<Network> {
    const centralPort = freePort();
    const httpPort = freePort();
    const db = join(this.dir, "central.db");
    const central = await this.central(centralPort, db, [
      "--http",
      String(httpPort),
      "--token",
      OPERATOR_TOKEN,
      ...(opts.centralArgs ?? []),
    ]);
    const cps: Network["cps"] = {};
    await Promise.all(cpIds.map(async (id) => {
      const enginePort = freePort();
      const engine = await this.engine(enginePort, opts.engineArgs ?? [], `engine ${id}`);
      const monitor = await this.monitor(enginePort, centralPort, id, opts.monitorArgs ?? []);
      cps[id] = { engine, monitor, enginePort };
    }));
    for (const id of cpIds) await central.waitFor(new RegExp(`STATE ${id} ACTIVADO`));
    const base = `http://127.0.0.1:${httpPort}`;
    return {
      ...centralApi(base),
      central,
      centralPort,
      httpPort,
      db,
      cps,
      api: base,
    };
  }

  /** Runs a driver with the given CP ids as its requests file; resolves with its process. */
  async driver(driverId: string, cpIds: string[], extra: string[] = []): Promise<Proc> {
    const file = join(this.dir, `requests-${driverId}-${crypto.randomUUID().slice(0, 6)}.txt`);
    await Deno.writeTextFile(file, cpIds.join("\n") + "\n");
    return this.spawn(
      "driver",
      [this.bootstrap, driverId, "--file", file, ...extra],
      `driver ${driverId}`,
    );
  }

  /**
   * Sends raw values to one of this scenario's topics as any other Kafka client could: no
   * validation on the way, so tests can send what our own programs never would.
   */
  async produceRaw(
    topic: "requests_topic" | "telemetry_topic" | "control_topic",
    messages: { key?: string; value: string; headers?: Record<string, string> }[],
    clientId = "raw-client",
  ): Promise<void> {
    const kafka = new Kafka({ clientId, brokers: [this.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (let i = 0; i < messages.length; i += 100) {
        await producer.send({
          topic: `${this.env.EV_TOPIC_PREFIX}${topic}`,
          messages: messages.slice(i, i + 100),
        });
      }
    } finally {
      await producer.disconnect();
    }
  }

  /**
   * Every record on one of this scenario's topics, from its beginning, as it arrives: its
   * JSON in `seen` (what is not JSON is left out), and each record with its headers (a CP's
   * authentication code) in `records`.
   */
  async watch(topic: "requests_topic" | "telemetry_topic" | "control_topic"): Promise<{
    seen: Record<string, unknown>[];
    records: SeenRecord[];
    stop(): Promise<void>;
  }> {
    const kafka = new Kafka({
      clientId: "test-watch",
      brokers: [this.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({
      groupId: `watch-${crypto.randomUUID()}`,
      sessionTimeout: 6000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
      readUncommitted: true, // as every reader of what Central writes (startConsumer)
    });
    const seen: Record<string, unknown>[] = [];
    const records: SeenRecord[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${this.env.EV_TOPIC_PREFIX}${topic}`, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const text = message.value?.toString() ?? "";
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        records.push({ key: message.key?.toString(), text, headers });
        try {
          seen.push(JSON.parse(text));
        } catch { /* not ours to judge here */ }
        return Promise.resolve();
      },
    });
    return { seen, records, stop: () => consumer.disconnect().catch(() => {}) };
  }

  /** Stops every program (Ctrl+C first). */
  async stopAll(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }

  /** Every program's output, for a failed test's report. */
  report(): string {
    return this.procs.map((p) => `----- ${p.name} -----\n${p.lines.join("\n")}`).join("\n");
  }
}

/** Central's HTTP API as the tests read it: structured answers, not log wording. */
export interface CentralApiView {
  /** Resolves when Central's API shows `cp` in `state` (polled, with a deadline). */
  waitState(cp: string, state: string, timeoutMs?: number): Promise<void>;
  /**
   * Resolves with the first stored event of `kind` (on `cp`, if given) whose detail matches
   * `detail`, polling `GET /events` until the deadline.
   */
  waitEvent(
    kind: string,
    filter?: { cp?: string; detail?: RegExp },
    timeoutMs?: number,
  ): Promise<{ kind: string; cp_id?: string; detail: string; session_id?: string }>;
  /** Resolves when `GET /health` says Kafka is `kafka` ("reachable" or "unreachable"). */
  waitKafka(kafka: "reachable" | "unreachable", timeoutMs?: number): Promise<void>;
  /** `GET /metrics`. */
  metrics(): Promise<Record<string, number>>;
}

/** The {@link CentralApiView} of the Central whose API is at `base`. */
export function centralApi(base: string): CentralApiView {
  const get = (path: string) => api(`${base}${path}`).catch(() => undefined);
  return {
    waitState: (cp, state, timeoutMs = 10_000) =>
      eventually(`${cp} to be ${state} on Central`, async () => {
        const items = (await get("/cps"))?.body.items as { cp_id: string; state: string }[];
        return items?.find((c) => c.cp_id === cp)?.state === state;
      }, timeoutMs).then(() => {}),
    waitEvent: (kind, filter = {}, timeoutMs = 15_000) =>
      eventually(`a ${kind} event${filter.cp ? ` on ${filter.cp}` : ""} on Central`, async () => {
        const query = new URLSearchParams({ kind, limit: "1000" });
        if (filter.cp) query.set("cp", filter.cp);
        const items = (await get(`/events?${query}`))?.body.items as
          | { kind: string; cp_id?: string; detail: string }[]
          | undefined;
        return items?.find((e) => !filter.detail || filter.detail.test(e.detail));
      }, timeoutMs),
    waitKafka: (kafka, timeoutMs = 30_000) =>
      eventually(`Central to find Kafka ${kafka}`, async () => {
        return (await get("/health"))?.body.kafka === kafka;
      }, timeoutMs).then(() => {}),
    metrics: async () => (await api(`${base}/metrics`)).body as Record<string, number>,
  };
}

/** What {@link Scenario.network} started. */
export interface Network extends CentralApiView {
  central: Proc;
  centralPort: number;
  httpPort: number;
  /** Base URL of Central's HTTP API. */
  api: string;
  db: string;
  cps: Record<string, { engine: Proc; monitor: Proc; enginePort: number }>;
}

/** The operator token the test networks' Central accepts. */
export const OPERATOR_TOKEN = "test-operator-token";

/** GET or POST JSON to Central's API (POSTs with the operator token; "" for none). */
export async function api(
  url: string,
  body?: unknown,
  token: string | undefined = OPERATOR_TOKEN,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(
    url,
    body === undefined ? {} : {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    },
  );
  return { status: res.status, body: await res.json() };
}

/** Runs `fn` in a fresh {@link Scenario}; prints the programs' output if it fails. */
export async function withScenario(fn: (s: Scenario) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ev-test-" });
  await runScenario(new Scenario(await broker(), dir), fn, async () => {});
}

/**
 * Runs `fn` in a fresh {@link Scenario} on the shared secure broker ({@link secureBroker}):
 * its network's topics and ACLs are made first, and every program logs in as its role.
 */
export async function withSecureScenario(
  fn: (s: Scenario, broker: Broker) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ev-test-" });
  const b = await secureBroker();
  const s = new Scenario(b.bootstrap, dir);
  s.credentials = b.credentials;
  await grantNetwork(b.bootstrap, b.credentials!.admin, s.env.EV_TOPIC_PREFIX);
  await runScenario(s, (s) => fn(s, b), async () => {});
}

/** A broker of one test's own, which the test may stop and start again (same port and data). */
export interface PrivateBroker {
  stop(): Promise<void>;
  start(): Promise<void>;
  /** kill -9: the broker gets no chance to close anything; `start` brings it back. */
  kill(): Promise<void>;
}

/**
 * Runs `fn` in a fresh {@link Scenario} on a broker of its own, for tests that stop the broker
 * or need a fresh one; the broker is stopped at the end, whatever state the test left it in.
 */
export async function withPrivateBroker(
  fn: (s: Scenario, broker: PrivateBroker) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ev-test-" });
  const options = { port: freePort(), dataDir: join(dir, "kafka") };
  let running: Broker | undefined = await startBroker(options);
  const control: PrivateBroker = {
    async stop() {
      await running?.stop();
      running = undefined;
    },
    async start() {
      running ??= await startBroker(options);
    },
    async kill() {
      if (!running) return;
      try {
        Deno.kill(running.pid, "SIGKILL");
      } catch { /* already gone */ }
      await running.exited;
      running = undefined;
    },
  };
  const s = new Scenario(running.bootstrap, dir);
  await runScenario(s, (s) => fn(s, control), () => control.stop());
}

async function runScenario(
  s: Scenario,
  fn: (s: Scenario) => Promise<void>,
  stopBroker: () => Promise<void>,
): Promise<void> {
  try {
    await fn(s);
  } catch (e) {
    console.error(s.report());
    throw e;
  } finally {
    await s.stopAll();
    await stopBroker();
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Waits until each of Central's counters (`GET /metrics`) named in `atLeast` has grown by at
 * least that much since `before`; returns how much each has grown.
 */
export function countersGrown<K extends string>(
  net: Pick<Network, "metrics">,
  before: Record<string, number>,
  atLeast: Record<K, number>,
  what = "every message counted",
): Promise<Record<K, number>> {
  const names = Object.keys(atLeast) as K[];
  return eventually(what, async () => {
    const m = await net.metrics();
    const grown = Object.fromEntries(names.map((k) => [k, m[k] - before[k]])) as Record<K, number>;
    return names.every((k) => grown[k] >= atLeast[k]) && grown;
  });
}

/** A record read off a topic by {@link Scenario.watch}. */
export interface SeenRecord {
  key: string | undefined;
  text: string;
  headers: Record<string, string>;
}

/**
 * The headers that sign `value` as `cpId`'s engine would, with the key Central stored for it
 * in `dbPath`: what someone who stole a CP's key could send.
 */
export function signedAs(
  dbPath: string,
  cpId: string,
  value: string,
): Promise<Record<string, string>> {
  const row = query(
    dbPath,
    (d) => d.prepare("SELECT key_id, secret FROM cp_keys WHERE cp_id = ?").get(cpId),
  ) as
    | { key_id: number; secret: string }
    | undefined;
  if (!row) throw new Error(`no key stored for ${cpId}`);
  return signedHeaders(macKey({ id: row.key_id, secret: row.secret }), value);
}

/** Opens a database read-only, runs `fn`, closes it. */
export function query<T>(dbPath: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/**
 * The ticket a driver printed on a `TICKET …` line (its JSON follows the text), checked
 * against the message catalogue.
 */
export function ticketOf(line: string): Ticket {
  const message = parseControlMessage(JSON.parse(line.slice(line.indexOf("{"))));
  if (message.type !== "TICKET") throw new Error(`not a ticket: ${line}`);
  return message;
}

/** Options for end-to-end tests: real processes and a shared broker outlive one test's ops. */
export const E2E = { sanitizeOps: false, sanitizeResources: false };
