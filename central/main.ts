/**
 * EV_Central — the brain of the charging network.
 *
 * Usage: EV_Central <socket_port> <kafka_host:port> [db_path]
 *
 * @module
 */
import { parseCommandLine, parseHostPort, parseNumber, parsePort } from "../shared/cli.ts";
import { createKafka, ensureTopics } from "../shared/kafka.ts";
import { errorText, logger, setSink } from "../shared/log.ts";
import { handleSignals, onShutdown, shutdown } from "../shared/shutdown.ts";
import { topicNames } from "../shared/topics.ts";
import { CentralApp } from "./app.ts";
import { Dashboard } from "./dashboard.ts";
import { CentralDb } from "./db.ts";
import { startMonitorServer } from "./monitor_server.ts";
import type { FramedServer } from "../shared/framed_server.ts";

const log = logger("central");

const spec = {
  name: "EV_Central",
  summary: "central of the EV charging network: monitors over TCP, drivers and engines over Kafka",
  positionals: [
    { name: "socket_port", help: "TCP port where charging point monitors connect" },
    { name: "kafka_host:port", help: "Kafka broker, e.g. 192.168.1.20:9092" },
    { name: "db_path", help: "SQLite database file (default: evcharging.db)", optional: true },
  ],
  options: {
    "heartbeat-timeout": {
      type: "string" as const,
      arg: "<seconds>",
      help: "declare a silent monitor DESCONECTADO after this long",
      default: "3",
    },
    "telemetry-timeout": {
      type: "string" as const,
      arg: "<seconds>",
      help: "abort a running session whose telemetry stops for this long",
      default: "10",
    },
    "request-timeout": {
      type: "string" as const,
      arg: "<seconds>",
      help: "deny requests that waited in Kafka longer than this",
      default: "10",
    },
  },
  notes: [
    "Topics: requests_topic, telemetry_topic, control_topic (EV_TOPIC_PREFIX prefixes all three).",
  ],
};

const config = parseCommandLine(spec, Deno.args, ({ positionals, options }) => {
  const seconds = (name: keyof typeof options, min: number) =>
    1000 * parseNumber(options[name] as string, `--${name}`, min, 3600);
  return {
    port: parsePort(positionals[0], "socket_port"),
    broker: parseHostPort(positionals[1], "kafka_host:port"),
    dbPath: positionals[2] ?? "evcharging.db",
    heartbeatTimeoutMs: seconds("heartbeat-timeout", 0.5),
    telemetryTimeoutMs: seconds("telemetry-timeout", 1),
    requestTimeoutMs: seconds("request-timeout", 1),
  };
});

handleSignals();
const brokerText = `${config.broker.host}:${config.broker.port}`;

let db: CentralDb;
try {
  db = new CentralDb(config.dbPath);
} catch (e) {
  console.error(`EV_Central: error: cannot open database "${config.dbPath}": ${errorText(e)}`);
  Deno.exit(1);
}
onShutdown("database", () => db.close());

const topics = topicNames();
const app = new CentralApp(db, topics, {
  requestTimeoutMs: config.requestTimeoutMs,
  telemetryTimeoutMs: config.telemetryTimeoutMs,
});

let server: FramedServer;
try {
  server = startMonitorServer(config.port, app.monitorHandlers(), {
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    registerTimeoutMs: 5000,
  });
} catch (e) {
  const reason = e instanceof Deno.errors.AddrInUse ? "port already in use" : errorText(e);
  console.error(`EV_Central: error: cannot listen on port ${config.port}: ${reason}`);
  await shutdown(1, "could not start");
}

const dashboard = new Dashboard(
  `EV_Central — monitors on :${config.port}, Kafka ${brokerText}, db ${config.dbPath}`,
  () => app.network.list(),
);
if (dashboard.fullScreen) setSink((r) => dashboard.log(r));
app.onChange = () => dashboard.changed();
onShutdown("dashboard", () => dashboard.stop());

try {
  const kafka = createKafka(brokerText, "ev-central");
  await ensureTopics(kafka, [topics.requests, topics.telemetry, topics.control]);
  await app.startKafka(kafka);
  onShutdown("kafka", () => app.stop());
} catch (e) {
  console.error(`EV_Central: error: cannot use the Kafka broker at ${brokerText}: ${errorText(e)}`);
  await shutdown(1, "could not start");
}
onShutdown("monitor server", () => server.close());
dashboard.start();
log.info(`listening for monitors on port ${server!.port}; Kafka at ${brokerText}`);
