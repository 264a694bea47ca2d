/**
 * A local single-node Apache Kafka broker (KRaft: broker and controller in one JVM), fetched
 * from Maven Central with Maven, for machines without Docker. The jars are copied once into
 * `.tools/kafka-<version>/libs`; later runs need no network.
 *
 * As a program (`deno task broker`): runs in the foreground until Ctrl+C.
 * As a module: {@link startBroker} for the tests and the demo.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import "../shared/kafka/kafkajs_warnings.ts";

/** The Kafka version, also pinned in scripts/kafka/pom.xml and compose.yaml. */
export const KAFKA_VERSION = "4.4.0";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LIBS = join(ROOT, ".tools", `kafka-${KAFKA_VERSION}`, "libs");
const POM = join(ROOT, "scripts", "kafka", "pom.xml");

/** Options of a local broker. */
export interface BrokerOptions {
  /** Client port (PLAINTEXT). */
  port: number;
  /** Where the log segments and metadata live; formatted on first use. */
  dataDir: string;
  /** Address to listen on. */
  listenHost?: string;
  /** Address clients are told to use; must be reachable from every client machine. */
  advertisedHost?: string;
  /** Print the broker's own log lines. */
  verbose?: boolean;
  /**
   * A command prefix for the JVM, e.g. `["ip", "netns", "exec", "pc2"]` to run the broker on a
   * test host; `probe` then says whether it answers (from where it can be reached).
   */
  wrap?: string[];
  probe?: (bootstrap: string) => Promise<boolean>;
  /** The KRaft controller's port; by default a free one on the listen address. */
  controllerPort?: number;
}

/** A running broker. */
export interface Broker {
  bootstrap: string;
  pid: number;
  /** Stops the broker (SIGTERM, then SIGKILL after 20 s). */
  stop(): Promise<void>;
  /** Resolves when the JVM exits. */
  exited: Promise<Deno.CommandStatus>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[], what: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    throw new Error(`${what}: cannot run ${cmd} (${(e as Error).message}); is it installed?`);
  }
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${what} failed:\n${text.slice(-3000)}`);
  return text;
}

/** Makes sure the broker's jars are in `.tools`, resolving them with Maven the first time. */
export async function ensureKafkaLibs(): Promise<string> {
  const marker = join(LIBS, ".complete");
  if (await exists(marker)) return LIBS;
  console.error(`Fetching Apache Kafka ${KAFKA_VERSION} from Maven Central (first run only)…`);
  await run("mvn", [
    "-B",
    "-q",
    "-f",
    POM,
    `-Dkafka.version=${KAFKA_VERSION}`,
    "dependency:copy-dependencies",
    "-DincludeScope=runtime",
    `-DoutputDirectory=${LIBS}`,
  ], "resolving the Kafka broker with Maven");
  await Deno.writeTextFile(marker, `${new Date().toISOString()}\n`);
  return LIBS;
}

/** A TCP port that is free right now on `host` (loopback by default). */
export function freePort(host = "127.0.0.1"): number {
  const l = Deno.listen({ hostname: host, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts a broker and resolves once it answers metadata requests. */
export async function startBroker(opts: BrokerOptions): Promise<Broker> {
  const libs = await ensureKafkaLibs();
  const listenHost = opts.listenHost ?? "127.0.0.1";
  const advertised = opts.advertisedHost ?? (listenHost === "0.0.0.0" ? "127.0.0.1" : listenHost);
  const controllerHost = listenHost === "0.0.0.0" ? "127.0.0.1" : listenHost;
  await Deno.mkdir(opts.dataDir, { recursive: true });
  // The controller's port is part of the formatted quorum: keep the one a data dir started with.
  const portFile = join(opts.dataDir, "controller-port");
  const controllerPort = opts.controllerPort ??
    ((await exists(portFile))
      ? Number(await Deno.readTextFile(portFile))
      : freePort(controllerHost));
  await Deno.writeTextFile(portFile, String(controllerPort));
  const logDir = join(opts.dataDir, "kraft");
  const props = join(opts.dataDir, "server.properties");
  await Deno.writeTextFile(
    props,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@${controllerHost}:${controllerPort}`,
      `listeners=PLAINTEXT://${listenHost}:${opts.port},CONTROLLER://${controllerHost}:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://${advertised}:${opts.port}`,
      "controller.listener.names=CONTROLLER",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      "inter.broker.listener.name=PLAINTEXT",
      `log.dirs=${logDir}`,
      "num.partitions=3",
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=10",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=true",
      "log.retention.hours=24",
      "",
    ].join("\n"),
  );
  const log4j = join(opts.dataDir, "log4j2.properties");
  await Deno.writeTextFile(
    log4j,
    [
      "status = warn",
      "appender.out.type = Console",
      "appender.out.name = OUT",
      "appender.out.layout.type = PatternLayout",
      "appender.out.layout.pattern = [kafka %d{HH:mm:ss}] %p %m%n",
      "rootLogger.level = warn",
      "rootLogger.appenderRef.out.ref = OUT",
      "logger.raft.name = kafka.server.KafkaRaftServer",
      "logger.raft.level = info",
      "",
    ].join("\n"),
  );
  const classpath = `${libs}/*`;
  if (!(await exists(join(logDir, "meta.properties")))) {
    const id =
      (await run("java", ["-cp", classpath, "kafka.tools.StorageTool", "random-uuid"], "kafka id"))
        .trim().split("\n").pop()!;
    await run(
      "java",
      ["-cp", classpath, "kafka.tools.StorageTool", "format", "-t", id, "-c", props],
      "formatting Kafka storage",
    );
  }
  const [command, ...prefix] = [...(opts.wrap ?? []), "java"];
  const child = new Deno.Command(command, {
    args: [
      ...prefix,
      "-Xms256m",
      "-Xmx768m",
      // The collector settings of Kafka's own start script (kafka-run-class.sh): G1's default
      // pause goal of 200 ms would show in every request's latency.
      "-XX:+UseG1GC",
      "-XX:MaxGCPauseMillis=20",
      "-XX:InitiatingHeapOccupancyPercent=35",
      "-XX:+ExplicitGCInvokesConcurrent",
      `-Dlog4j2.configurationFile=${log4j}`,
      "-cp",
      classpath,
      "kafka.Kafka",
      props,
    ],
    stdin: "null",
    stdout: opts.verbose ? "inherit" : "piped",
    stderr: opts.verbose ? "inherit" : "piped",
  }).spawn();
  const tail: string[] = [];
  if (!opts.verbose) {
    for (const stream of [child.stdout, child.stderr]) {
      void stream.pipeThrough(new TextDecoderStream()).pipeTo(
        new WritableStream({
          write(chunk) {
            tail.push(...chunk.split("\n").filter((l) => l.trim()));
            if (tail.length > 50) tail.splice(0, tail.length - 50);
          },
        }),
      ).catch(() => {});
    }
  }
  const bootstrap = `${advertised}:${opts.port}`;
  const broker: Broker = {
    bootstrap,
    pid: child.pid,
    exited: child.status,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        return; // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 20_000);
      await child.status;
      clearTimeout(timer);
    },
  };
  let exited = false;
  void child.status.then(() => (exited = true));
  const deadline = Date.now() + 90_000;
  while (true) {
    if (exited) {
      throw new Error(`the Kafka broker exited during start-up:\n${tail.join("\n")}`);
    }
    if (await (opts.probe ?? answers)(bootstrap)) return broker;
    if (Date.now() > deadline) {
      await broker.stop();
      throw new Error(`the Kafka broker did not answer within 90 s:\n${tail.join("\n")}`);
    }
    await delay(300);
  }
}

/** Whether a broker at `bootstrap` answers a metadata request. */
export async function answers(bootstrap: string): Promise<boolean> {
  const kafka = new Kafka({
    clientId: "ev-broker-probe",
    brokers: [bootstrap],
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "9092" },
      data: { type: "string", default: join(ROOT, ".tools", "kafka-data") },
      listen: { type: "string", default: "127.0.0.1" },
      "advertised-host": { type: "string" },
      probe: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.probe) Deno.exit((await answers(values.probe)) ? 0 : 1);
  if (values.help) {
    console.log(
      `deno task broker — a local Apache Kafka ${KAFKA_VERSION} broker (KRaft, single node)

Options:
  --port <n>               client port (default 9092)
  --data <dir>             data folder (default .tools/kafka-data)
  --listen <addr>          address to listen on (default 127.0.0.1; 0.0.0.0 for other PCs)
  --advertised-host <h>    address other PCs use to reach this one (required with 0.0.0.0
                           when clients run on other machines)`,
    );
    Deno.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`broker: error: --port must be 1-65535, got "${values.port}"`);
    Deno.exit(2);
  }
  if (values.listen === "0.0.0.0" && !values["advertised-host"]) {
    console.error(
      "broker: error: with --listen 0.0.0.0, give --advertised-host <this PC's LAN IP>, or other " +
        "PCs would be told to connect to 127.0.0.1",
    );
    Deno.exit(2);
  }
  try {
    const broker = await startBroker({
      port,
      dataDir: values.data!,
      listenHost: values.listen,
      advertisedHost: values["advertised-host"],
      verbose: true,
    });
    console.error(`Kafka ${KAFKA_VERSION} ready at ${broker.bootstrap} (Ctrl+C to stop)`);
    const stop = () => void broker.stop().then(() => Deno.exit(0));
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    const status = await broker.exited;
    Deno.exit(status.code);
  } catch (e) {
    console.error(`broker: error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
