/**
 * A local single-node Apache Kafka broker (KRaft: broker and controller in one JVM), fetched
 * from Maven Central with Maven, for machines without Docker. The jars are copied once into
 * `.tools/kafka-<version>/libs`; later runs need no network.
 *
 * As a program (`deno task broker`): runs in the foreground until Ctrl+C. With `--secure`,
 * clients must log in (SASL/SCRAM) and ACLs decide what each may do (scripts/kafka/secure.ts).
 * As a module: {@link startBroker} for the tests and the demo.
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";
import "../shared/kafka/kafkajs_warnings.ts";
import { type KafkaCredentials, kafkaCredentials } from "../shared/kafka/credentials.ts";
import { kafkaErrorText } from "../shared/kafka/access.ts";
import {
  credentialsDir,
  grantNetwork,
  type RoleCredentials,
  rolePasswords,
  SCRAM,
  scramFormatArgs,
  secureProperties,
} from "./kafka/secure.ts";

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
  /**
   * SASL/SCRAM and ACLs (scripts/kafka/secure.ts). A data folder is formatted secure or
   * plaintext once, and refuses the other mode afterwards.
   */
  secure?: boolean;
  /** With `secure`: the topic prefixes (networks) whose topics and ACLs are made at start. */
  prefixes?: string[];
}

/** A running broker. */
export interface Broker {
  bootstrap: string;
  pid: number;
  /** Stops the broker (SIGTERM, then SIGKILL after 20 s). */
  stop(): Promise<void>;
  /** Resolves when the JVM exits. */
  exited: Promise<Deno.CommandStatus>;
  /** A secure broker's users (admin, central, engine, driver) and their passwords. */
  credentials?: RoleCredentials;
  /** A secure broker's password files, `<role>.password`. */
  credentialsDir?: string;
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
  // A secure broker's controller is on loopback (see secureProperties).
  const controllerHost = listenHost === "0.0.0.0" || opts.secure ? "127.0.0.1" : listenHost;
  await Deno.mkdir(opts.dataDir, { recursive: true });
  const logDir = join(opts.dataDir, "kraft");
  const formatted = await exists(join(logDir, "meta.properties"));
  await checkMode(opts.dataDir, formatted, opts.secure ? "secure" : "plaintext");
  const credentials = opts.secure ? await rolePasswords(opts.dataDir, formatted) : undefined;
  // The controller's port is part of the formatted quorum: keep the one a data dir started with.
  const portFile = join(opts.dataDir, "controller-port");
  const controllerPort = opts.controllerPort ??
    ((await exists(portFile))
      ? Number(await Deno.readTextFile(portFile))
      : freePort(controllerHost));
  await Deno.writeTextFile(portFile, String(controllerPort));
  const props = join(opts.dataDir, "server.properties");
  const listeners = credentials
    ? secureProperties(
      { listenHost, port: opts.port, advertised, controllerPort },
      credentials.admin,
    )
    : [
      `controller.quorum.voters=1@${controllerHost}:${controllerPort}`,
      `listeners=PLAINTEXT://${listenHost}:${opts.port},CONTROLLER://${controllerHost}:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://${advertised}:${opts.port}`,
      "controller.listener.names=CONTROLLER",
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      "inter.broker.listener.name=PLAINTEXT",
      "auto.create.topics.enable=true",
    ];
  await Deno.writeTextFile(
    props,
    [
      "process.roles=broker,controller",
      "node.id=1",
      ...listeners,
      `log.dirs=${logDir}`,
      "num.partitions=3",
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=10",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "log.retention.hours=24",
      "",
    ].join("\n"),
    // A secure broker's holds the admin's password.
    { mode: 0o600 },
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
  if (!formatted) {
    const id =
      (await run("java", ["-cp", classpath, "kafka.tools.StorageTool", "random-uuid"], "kafka id"))
        .trim().split("\n").pop()!;
    const format = ["-cp", classpath, "kafka.tools.StorageTool", "format", "-t", id, "-c", props];
    if (credentials) await formatWithUsers(opts.dataDir, format, credentials);
    else await run("java", format, "formatting Kafka storage");
    await Deno.writeTextFile(
      join(opts.dataDir, MODE_FILE),
      (opts.secure ? "secure" : "plaintext") + "\n",
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
    credentials,
    credentialsDir: credentials ? credentialsDir(opts.dataDir) : undefined,
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
    const probe = opts.probe ?? ((b: string) => answers(b, credentials?.admin));
    if (await probe(bootstrap)) break;
    if (Date.now() > deadline) {
      await broker.stop();
      throw new Error(`the Kafka broker did not answer within 90 s:\n${tail.join("\n")}`);
    }
    await delay(300);
  }
  if (credentials) {
    try {
      for (const prefix of opts.prefixes ?? [""]) {
        await grantNetwork(bootstrap, credentials.admin, prefix);
      }
    } catch (e) {
      await broker.stop();
      throw new Error(`could not create the topics and ACLs: ${(e as Error).message}`);
    }
  }
  return broker;
}

/** Says whether a data folder was formatted secure or plaintext. */
const MODE_FILE = "security-mode";

/** Refuses a data folder formatted in the other mode: its users and listeners would not fit. */
async function checkMode(dataDir: string, formatted: boolean, mode: string): Promise<void> {
  if (!formatted) return;
  const file = join(dataDir, MODE_FILE);
  // Folders formatted before secure brokers existed are plaintext.
  const was = (await exists(file)) ? (await Deno.readTextFile(file)).trim() : "plaintext";
  if (was !== mode) {
    throw new Error(
      `the data folder ${dataDir} was formatted for a ${was} broker; use another --data for ` +
        `a ${mode} one`,
    );
  }
}

/**
 * Formats the storage with every role's SCRAM user. The passwords go to java in an argument
 * file readable by this user only, removed at once, so they never show in `ps`.
 */
async function formatWithUsers(
  dataDir: string,
  format: string[],
  credentials: RoleCredentials,
): Promise<void> {
  const argFile = join(dataDir, "format.args");
  const args = [...format, ...scramFormatArgs(credentials)];
  // Quoted, as java's @files split on spaces and read backslashes (a Windows path) as escapes.
  const quoted = args.map((a) => `"${a.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`);
  await Deno.writeTextFile(argFile, quoted.join("\n") + "\n", { mode: 0o600 });
  try {
    await run("java", [`@${argFile}`], "formatting Kafka storage");
  } finally {
    await Deno.remove(argFile).catch(() => {});
  }
}

/** Whether a broker at `bootstrap` answers a metadata request (logged in, with `credentials`). */
export async function answers(
  bootstrap: string,
  credentials?: KafkaCredentials,
): Promise<boolean> {
  const kafka = new Kafka({
    clientId: "ev-broker-probe",
    brokers: [bootstrap],
    ...(credentials ? { sasl: { ...credentials } as SASLOptions } : {}),
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
      data: { type: "string" },
      secure: { type: "boolean" },
      prefix: { type: "string", multiple: true },
      grant: { type: "string" },
      credentials: { type: "string" },
      listen: { type: "string", default: "127.0.0.1" },
      "advertised-host": { type: "string" },
      probe: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.grant) {
    // A secure broker started elsewhere (compose.yaml's kafka-secure): its topics and ACLs.
    const dir = values.credentials ?? credentialsDir(
      values.data ?? join(ROOT, ".tools", "kafka-data-secure"),
    );
    try {
      const file = join(dir, "admin.password");
      const password = await Deno.readTextFile(file).catch(() => {
        throw new Error(
          `cannot read ${file}: give --credentials <the broker's credentials folder>`,
        );
      });
      const admin: KafkaCredentials = {
        mechanism: "scram-sha-256",
        username: "admin",
        password: password.trim(),
      };
      for (const prefix of values.prefix ?? [""]) {
        await grantNetwork(values.grant, admin, prefix);
        console.error(`topics and ACLs of EV_TOPIC_PREFIX "${prefix}" made on ${values.grant}`);
      }
      Deno.exit(0);
    } catch (e) {
      console.error(`broker: error: ${kafkaErrorText(e)}`);
      Deno.exit(1);
    }
  }
  if (values.probe) {
    Deno.exit((await answers(values.probe, kafkaCredentials({}))) ? 0 : 1);
  }
  if (values.help) {
    console.log(
      `deno task broker — a local Apache Kafka ${KAFKA_VERSION} broker (KRaft, single node)

Options:
  --port <n>               client port (default 9092)
  --data <dir>             data folder (default .tools/kafka-data)
  --listen <addr>          address to listen on (default 127.0.0.1; 0.0.0.0 for other PCs)
  --advertised-host <h>    address other PCs use to reach this one (required with 0.0.0.0
                           when clients run on other machines)
  --secure                 clients log in with SASL/${SCRAM} as admin, central, engine or
                           driver, and ACLs allow each only what its programs do; passwords
                           are made once and kept in <data>/credentials/<user>.password
                           (default data folder .tools/kafka-data-secure)
  --prefix <p>             with --secure: create the topics and ACLs of the network whose
                           EV_TOPIC_PREFIX is <p> (default ""; repeat for several)
  --grant <host:port>      only create the topics and ACLs (of each --prefix) on the secure
                           broker there, as admin (compose.yaml's kafka-secure)
  --credentials <dir>      with --grant: the folder of admin.password (default: the data
                           folder's credentials/)
  --probe <host:port>      exit 0 if a broker answers there (EV_KAFKA_USER/EV_KAFKA_PASSWORD
                           to log in), 1 if not`,
    );
    Deno.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`broker: error: --port must be 1-65535, got "${values.port}"`);
    Deno.exit(2);
  }
  if (values.prefix && !values.secure) {
    console.error(
      "broker: error: --prefix goes with --secure (a plaintext broker lets " +
        "programs create their topics)",
    );
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
    const dataDir = values.data ??
      join(ROOT, ".tools", values.secure ? "kafka-data-secure" : "kafka-data");
    const broker = await startBroker({
      port,
      dataDir,
      listenHost: values.listen,
      advertisedHost: values["advertised-host"],
      verbose: true,
      secure: values.secure,
      prefixes: values.prefix,
    });
    console.error(`Kafka ${KAFKA_VERSION} ready at ${broker.bootstrap} (Ctrl+C to stop)`);
    if (broker.credentialsDir) {
      const prefixes = (values.prefix ?? [""]).map((p) => `"${p}"`).join(", ");
      console.error(
        `secure: SASL/${SCRAM} with ACLs; topics and ACLs made for EV_TOPIC_PREFIX ${prefixes}\n` +
          `users admin, central, engine, driver; their passwords are in ${broker.credentialsDir}\n` +
          `e.g. EV_Driver ${broker.bootstrap} D-1 --kafka-user driver --kafka-password-file ` +
          join(broker.credentialsDir, "driver.password"),
      );
    }
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
