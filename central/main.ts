/**
 * EV_Central — the brain of the charging network.
 *
 * Usage: EV_Central <socket_port> <kafka_host:port> [db_path] [--listen <ip>]
 *        [--http <port>|<ip:port>|off]
 *
 * A second EV_Central on the same database is the standby: it says so, serves nothing and
 * takes over when the active one stops or dies (central/lease.ts). So is one on another
 * database but the same broker and topic prefix (central/kafka_claim.ts).
 *
 * @module
 */
import {
  parseCommandLine,
  parseHostPort,
  parseListenAddress,
  parseListenHost,
  parseNumber,
  parsePort,
  UsageError,
} from "../shared/process/cli.ts";
import { type HostPort, hostPortText } from "../shared/net/host_port.ts";
import { readPemFile } from "../shared/net/pem_file.ts";
import { listenErrorText } from "../shared/net/listen_error.ts";
import type { FramedServer } from "../shared/net/framed_server.ts";
import { readLines, restoreTerminal } from "../shared/term/input.ts";
import { createKafka, ensureTopics } from "../shared/kafka/client.ts";
import { CREDENTIAL_OPTIONS, kafkaCredentials } from "../shared/kafka/credentials.ts";
import { kafkaErrorText } from "../shared/kafka/access.ts";
import { errorText, logger, setSink } from "../shared/process/log.ts";
import { handleSignals, onShutdown, shutdown } from "../shared/process/shutdown.ts";
import { openFilesLimit } from "../shared/process/open_files.ts";
import { networkClaimNames, topicNames } from "../shared/kafka/topics.ts";
import { CentralApp } from "./app.ts";
import { Dashboard } from "./dashboard.ts";
import { CentralDb } from "./db.ts";
import { DB_PATH_HELP, DEFAULT_DB_PATH, parseDbPath } from "./db_path.ts";
import { startHttp } from "./http_api.ts";
import { NetworkClaim } from "./kafka_claim.ts";
import { acquire, keepRenewing, Lease, LeaseLost } from "./lease.ts";
import { startMonitorServer } from "./monitor_server.ts";
import { COMMAND_HELP, parseOperatorLine } from "./operator.ts";
import { startStandbyHttp } from "./standby_http.ts";
import { cpView } from "./views.ts";

/** Open files kept for the database, Kafka, the HTTP API and its clients: never monitor links. */
const FILES_KEPT_FREE = 256;

/** The HTTP API's port when none is given. */
export const DEFAULT_HTTP_PORT = 8080;

/**
 * Every interface: the default of both listeners, since monitors on PC3 and operators
 * elsewhere connect to this PC (HTTP commands need the operator token).
 */
const ALL_INTERFACES = "0.0.0.0";

const log = logger("central");

const seconds = (help: string, value: string) => ({
  type: "string" as const,
  arg: "<seconds>",
  help,
  default: value,
});

const spec = {
  name: "EV_Central",
  summary: "central of the EV charging network: monitors over TCP, drivers and engines over Kafka",
  positionals: [
    { name: "socket_port", help: "TCP port where charging point monitors connect" },
    { name: "kafka_host:port", help: "Kafka broker, e.g. 192.168.1.20:9092" },
    { name: "db_path", help: DB_PATH_HELP, optional: true },
  ],
  options: {
    listen: {
      type: "string" as const,
      arg: "<ip>",
      help: "address of socket_port: 0.0.0.0 = every interface (monitors on other PCs), " +
        "or one address of this PC",
      default: ALL_INTERFACES,
    },
    http: {
      type: "string" as const,
      arg: "<port>|<ip:port>|off",
      help: "HTTP API and web panel: a port on every interface, one address and port, or off",
      default: String(DEFAULT_HTTP_PORT),
    },
    token: {
      type: "string" as const,
      arg: "<token>",
      help: "operator token for HTTP commands (or EV_OPERATOR_TOKEN); without it they are off",
    },
    auth: {
      type: "boolean" as const,
      help: "require each monitor to present its CP's secret (enrol <CP> <secret> first)",
    },
    "tls-cert": {
      type: "string" as const,
      arg: "<file>",
      help: "serve monitors over TLS with this PEM certificate (chain); needs --tls-key " +
        "(scripts/tls-certs.sh makes them)",
    },
    "tls-key": {
      type: "string" as const,
      arg: "<file>",
      help: "the PEM private key of --tls-cert",
    },
    "heartbeat-timeout": seconds("declare a silent monitor DESCONECTADO after this long", "3"),
    "telemetry-timeout": seconds("abort a running session whose telemetry stops this long", "10"),
    "request-timeout": seconds("deny requests that waited in Kafka longer than this", "10"),
    ...CREDENTIAL_OPTIONS,
  },
  notes: [
    COMMAND_HELP,
    "Topics: requests_topic, telemetry_topic, control_topic (EV_TOPIC_PREFIX prefixes all three).",
    "A second EV_Central on the same db_path is the standby: it waits, serving nothing (its HTTP " +
    "API answers 503), and takes over within 5 s when the active one stops or dies; so is one " +
    "on another db_path but the same broker and EV_TOPIC_PREFIX.",
  ],
};

/** The monitor server's TLS certificate and key: both given, or neither. */
function monitorTls(cert: string | undefined, key: string | undefined) {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  return {
    cert: readPemFile(cert, "--tls-cert", "certificate"),
    key: readPemFile(key, "--tls-key", "private key"),
  };
}

const config = parseCommandLine(spec, Deno.args, ({ positionals, options }) => {
  const ms = (name: "heartbeat-timeout" | "telemetry-timeout" | "request-timeout", min: number) =>
    1000 * parseNumber(options[name]!, `--${name}`, min, 3600);
  return {
    port: parsePort(positionals[0], "socket_port"),
    broker: parseHostPort(positionals[1], "kafka_host:port"),
    dbPath: positionals[2] === undefined ? DEFAULT_DB_PATH : parseDbPath(positionals[2]),
    listen: parseListenHost(options.listen!, "--listen"),
    http: options.http === "off"
      ? undefined
      : parseListenAddress(options.http!, "--http", ALL_INTERFACES),
    token: options.token ?? Deno.env.get("EV_OPERATOR_TOKEN") ?? undefined,
    auth: options.auth,
    tls: monitorTls(options["tls-cert"], options["tls-key"]),
    heartbeatTimeoutMs: ms("heartbeat-timeout", 0.5),
    telemetryTimeoutMs: ms("telemetry-timeout", 1),
    requestTimeoutMs: ms("request-timeout", 1),
    kafka: kafkaCredentials(options),
  };
});

handleSignals();
onShutdown("terminal", restoreTerminal);
const brokerText = hostPortText(config.broker);

let db: CentralDb;
try {
  db = new CentralDb(config.dbPath);
} catch (e) {
  console.error(`EV_Central: error: cannot open database "${config.dbPath}": ${errorText(e)}`);
  Deno.exit(1);
}
onShutdown("database", () => db.close());

// One active Central per database (central/lease.ts): every write transaction is fenced.
const lease = new Lease(db.connection);
db.fence = () => lease.fence();
let leaseLost = false;
/** Leaves the full-screen dashboard, once there is one. */
let stopScreen = () => {};
const topics = topicNames();
const kafka = createKafka(brokerText, "ev-central", config.kafka);
// One active Central per network, whatever its database (central/kafka_claim.ts): every
// write to Kafka goes through the claim's fenced producer. Watched while the lease is
// awaited, so that a takeover of both waits out one timeout, not two.
const claim = new NetworkClaim(kafka, networkClaimNames(topics), lease.holder);
const watchingClaim = new AbortController();
claim.watchEarly(watchingClaim.signal);
onShutdown("network claim watch", () => watchingClaim.abort());
await becomeActive();
log.info(`this Central is now the active one (lease epoch ${lease.epoch})`);
// Closers run newest first: the renewal stops, then the lease is released, after Kafka and
// the monitors are done writing and before the database closes.
onShutdown("lease", () => leaseLost || lease.release());
onShutdown(
  "lease renewal",
  keepRenewing(lease, stopLost, (why) => log.warn(`cannot renew the lease yet: ${why}`)),
);

/**
 * Takes the lease, or waits for it as the standby: no monitor port, no Kafka, and an HTTP
 * API that only says which Central is active. The state is loaded after this, so a standby
 * that takes over starts from the latest rows.
 */
async function becomeActive(): Promise<void> {
  const waiting = new AbortController();
  let standbyHttp: Deno.HttpServer | undefined;
  onShutdown("standby", async () => {
    waiting.abort();
    await standbyHttp?.shutdown();
  });
  try {
    await acquire(lease, (holder) => {
      console.log(`standby: Central ${holder} is active on this database; waiting to take over`);
      if (config.http) standbyHttp = startStandbyHttp(config.http, holder);
    }, waiting.signal);
  } catch (e) {
    if (waiting.signal.aborted) await new Promise(() => {}); // shutting down: it exits
    await fatal(`cannot take the lease on "${config.dbPath}"`, errorText(e));
  }
  // Its port is the real API's now.
  await standbyHttp?.shutdown();
  standbyHttp = undefined;
}

/**
 * Another Central holds the lease (or the network claim, `what`): this one stops at once,
 * writing nothing more.
 */
function stopLost(why: string, what = "lease lost"): never {
  leaseLost = true;
  stopScreen();
  restoreTerminal();
  console.error(`EV_Central: error: ${what}: ${why}; stopping without writing anything`);
  Deno.exit(3);
}

/** Why the lease is no longer ours, or undefined while it is. */
function leaseLostReason(): string | undefined {
  try {
    lease.fence();
    return undefined;
  } catch (e) {
    return e instanceof LeaseLost ? e.message : undefined;
  }
}

const claimLost = (why: string) => stopLost(why, "network claim lost");
await claimNetwork();
log.info(`this Central now serves the network (claim topic ${claim.names.topic})`);
onShutdown("network claim", () => claim.release());
claim.keepClaiming(
  claimLost,
  (why) => log.warn(`cannot renew the network claim yet: ${why}`),
);

/**
 * Takes the network claim, or waits for it as the standby of another Central on this broker
 * and topic prefix, as {@link becomeActive} does for the database. The state is loaded after.
 */
async function claimNetwork(): Promise<void> {
  const waiting = new AbortController();
  let standbyHttp: Deno.HttpServer | undefined;
  onShutdown("network standby", async () => {
    waiting.abort();
    await standbyHttp?.shutdown();
  });
  try {
    await claim.connect();
    await claim.acquire(() => {
      const prefix = Deno.env.get("EV_TOPIC_PREFIX") ?? "";
      console.log(
        `standby: another Central serves this network (topic prefix "${prefix}", claim topic ` +
          `${claim.names.topic}); waiting to take over`,
      );
      if (config.http) {
        standbyHttp = startStandbyHttp(config.http, `claim topic ${claim.names.topic}`, "network");
      }
    }, waiting.signal);
  } catch (e) {
    if (waiting.signal.aborted) await new Promise(() => {}); // shutting down: it exits
    await fatal(`cannot use the Kafka broker at ${brokerText}`, kafkaErrorText(e, kafka));
  }
  await standbyHttp?.shutdown();
  standbyHttp = undefined;
}

const app = new CentralApp(db, topics, {
  requestTimeoutMs: config.requestTimeoutMs,
  telemetryTimeoutMs: config.telemetryTimeoutMs,
}, claimLost);

function fatal(what: string, reason: string): Promise<never> {
  console.error(`EV_Central: error: ${what}: ${reason}`);
  return shutdown(1, "could not start");
}

/** How an operator reaches a listener: this PC's name stands for "every interface". */
function reachAt({ host, port }: HostPort): string {
  return hostPortText({
    host: host === ALL_INTERFACES || host === "::" ? "<this-host>" : host,
    port,
  });
}

let server: FramedServer | undefined;
try {
  const files = openFilesLimit();
  const handlers = app.monitorHandlers(config.auth);
  onShutdown("secret checks", () => handlers.close());
  // Refused registrations are recorded per source and minute: the counts when each minute ends.
  const refusals = setInterval(() => handlers.flushRefusals(), 5000);
  onShutdown("refusal records", () => clearInterval(refusals));
  server = startMonitorServer(config.listen, config.port, handlers, {
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    registerTimeoutMs: 5000,
    maxLinks: files === undefined ? undefined : Math.max(1, files - FILES_KEPT_FREE),
    tls: config.tls,
  });
} catch (e) {
  await fatal(`cannot listen on port ${config.port}`, listenErrorText(e, config.listen));
}

let http: Deno.HttpServer | undefined;
if (config.http) {
  try {
    http = startHttp(config.http.port, config.http.host, {
      db,
      cps: () => app.network.list().map(cpView),
      cp: (cpId) => {
        const cp = app.network.get(cpId);
        return cp ? cpView(cp) : undefined;
      },
      metrics: () => ({ ...app.metricsSnapshot(), io_lag_ms: Math.round(server?.ioLag() ?? 0) }),
      resetMetrics: () => app.metrics.resetSamples(),
      recentEvents: () => app.recentEvents(),
      stats: () => app.stats(),
      command: (c, target) => app.command(c, target, "http"),
      forget: (cpId) => app.forget(cpId, "http"),
      enrol: (cpId, secret) => app.enrol(cpId, secret),
      token: config.token,
      subscribe: (l) => app.runner.subscribe(l),
      kafkaReachable: () => app.intake.reachable,
    });
    onShutdown("http server", () => http!.shutdown());
  } catch (e) {
    await fatal(
      `cannot serve HTTP on port ${config.http.port}`,
      listenErrorText(e, config.http.host),
    );
  }
}

let prompt = "";
let lastAnswer = "";
const httpText = config.http ? `, web panel http://${reachAt(config.http)}/` : "";
const monitorsAt = reachAt({ host: config.listen, port: config.port });
const dashboard = new Dashboard(
  `EV_Central — monitors on ${monitorsAt}, Kafka ${brokerText}${httpText}`,
  () => app.network.list(),
  () => {
    const s = app.stats();
    return [
      `Requests: ${s.requests} · authorized ${s.authorized} · denied ${s.denied} · charging now ${s.running}`,
      COMMAND_HELP,
      lastAnswer,
      `> ${prompt}`,
    ];
  },
);
if (dashboard.fullScreen) setSink((r) => dashboard.log(r));
app.runner.subscribe(() => dashboard.changed());
onShutdown("dashboard", () => dashboard.stop());
stopScreen = () => dashboard.stop();
app.runner.onFatal = (why, unstored) => {
  // Memory holds the change the database refused: the dashboard must not show it.
  dashboard.stop({ hide: unstored });
  const lost = leaseLostReason();
  if (lost !== undefined) stopLost(lost);
  console.error(`EV_Central: error: ${why}; stopping so that nothing is lost`);
  void shutdown(1, "database failure");
};

try {
  await ensureTopics(kafka, [topics.requests, topics.telemetry, topics.control]);
  await app.startKafka(kafka, claim.producer);
  onShutdown("kafka", () => app.stop());
} catch (e) {
  await fatal(`cannot use the Kafka broker at ${brokerText}`, kafkaErrorText(e, kafka));
}
onShutdown("monitor server", () => server!.close());
dashboard.start();
log.info(
  `listening for monitors on port ${server!.port} (address ${config.listen}` +
    `${config.tls ? ", TLS" : ""}); ` +
    `Kafka at ${brokerText}` + (config.http ? `; HTTP on ${hostPortText(config.http)}` : ""),
);

function answer(text: string, level: "info" | "warn" = "info"): void {
  lastAnswer = text;
  log[level](text);
  dashboard.changed();
}

void readLines(
  (line) => {
    try {
      const cmd = parseOperatorLine(line);
      if (cmd.kind === "help") answer(COMMAND_HELP);
      else if (cmd.kind === "enrol") {
        // The secret itself is never logged.
        void app.enrol(cmd.cpId, cmd.secret).then(
          () => answer(`${cmd.cpId} enrolled: its monitor must present this secret`),
          (e) => answer(`enrol ${cmd.cpId}: ${errorText(e)}`, "warn"),
        );
      } else if (cmd.kind === "forget") {
        const outcome = app.forget(cmd.cpId, "console");
        if (outcome.ok) answer(`${cmd.cpId} forgotten: its sessions stay in the history`);
        else answer(`forget: ${outcome.reason}`, "warn");
      } else if (cmd.kind === "quit") void shutdown(0, "quit");
      else if (app.command(cmd.kind, cmd.target, "console")) {
        answer(`${cmd.kind} ${cmd.target}: sent`);
      } else answer(`${cmd.kind}: unknown CP "${cmd.target}"`, "warn");
    } catch (e) {
      answer(errorText(e), "warn");
    }
  },
  (buffer) => {
    prompt = buffer;
    dashboard.changed();
  },
);
