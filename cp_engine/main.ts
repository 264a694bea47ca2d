/**
 * EV_CP_E — a charging point's engine: answers its monitor's health checks, takes orders
 * from Central over Kafka and supplies energy, sending telemetry every second.
 *
 * Usage: EV_CP_E <kafka_host:port> [listen_port] [--listen <ip>]
 *
 * @module
 */
import {
  parseCommandLine,
  parseHostPort,
  parseListenHost,
  parseNumber,
  parsePort,
} from "../shared/process/cli.ts";
import { hostPortText } from "../shared/net/host_port.ts";
import { listenErrorText } from "../shared/net/listen_error.ts";
import { StatusLine } from "../shared/term/status_line.ts";
import { readCommands, restoreTerminal } from "../shared/term/input.ts";
import { createKafka } from "../shared/kafka/client.ts";
import { startConsumer } from "../shared/kafka/consumer.ts";
import { JsonProducer } from "../shared/kafka/producer.ts";
import { errorText, logger } from "../shared/process/log.ts";
import { parseControlMessage, type TelemetryMessage } from "../shared/protocol/messages.ts";
import { handleSignals, onShutdown, shutdown } from "../shared/process/shutdown.ts";
import { topicNames } from "../shared/kafka/topics.ts";
import { Engine } from "./engine.ts";
import { startHealthServer } from "./health_server.ts";
import { engineStatusText } from "./status_text.ts";
import { TelemetrySender } from "./telemetry_sender.ts";

/** The health port when none is given. */
export const DEFAULT_ENGINE_PORT = 7001;

/**
 * The health port's address when none is given: its monitor runs on the same PC (the spec),
 * so nothing else needs to reach it.
 */
export const DEFAULT_ENGINE_LISTEN = "127.0.0.1";

const log = logger("engine");

const spec = {
  name: "EV_CP_E",
  summary: "engine of a charging point: supplies energy when Central authorizes a driver",
  positionals: [
    { name: "kafka_host:port", help: "Kafka broker, e.g. 192.168.1.20:9092" },
    {
      name: "listen_port",
      help: `port where its monitor checks its health (default: ${DEFAULT_ENGINE_PORT})`,
      optional: true,
    },
  ],
  options: {
    duration: {
      type: "string" as const,
      arg: "<seconds>",
      help: "how long a supply lasts unless unplugged or stopped",
      default: "120",
    },
    power: { type: "string" as const, arg: "<kW>", help: "charger power", default: "50" },
    listen: {
      type: "string" as const,
      arg: "<ip>",
      help: "address of the health port: 127.0.0.1 serves only a monitor on this PC; " +
        "0.0.0.0 every interface",
      default: DEFAULT_ENGINE_LISTEN,
    },
  },
  notes: [
    "Keys: f = toggle fault (answer KO), u = unplug (end the supply), q = quit.",
    "With stdin not a terminal, commands are read as lines: ko, ok, fault (toggle), unplug, quit.",
  ],
};

const config = parseCommandLine(spec, Deno.args, ({ positionals, options }) => ({
  broker: parseHostPort(positionals[0], "kafka_host:port"),
  port: positionals[1] ? parsePort(positionals[1], "listen_port") : DEFAULT_ENGINE_PORT,
  listen: parseListenHost(options.listen!, "--listen"),
  durationS: parseNumber(options.duration!, "--duration", 1, 86_400),
  powerKw: parseNumber(options.power!, "--power", 0.1, 1000),
}));

handleSignals();
onShutdown("terminal", restoreTerminal);
const brokerText = hostPortText(config.broker);
const topics = topicNames();
const engine = new Engine({
  powerKw: config.powerKw,
  durationS: config.durationS,
  staleMs: 15_000,
});
const status = new StatusLine("STATUS");
onShutdown("status line", () => status.close());

function show(): void {
  status.set(engineStatusText(engine, status.tty));
}

let server;
try {
  server = startHealthServer(config.listen, config.port, {
    health: () => engine.health(),
    claim: (cpId) => {
      const first = engine.cpId === undefined;
      const ok = engine.claim(cpId);
      if (first && ok) {
        log.info(`serving CP ${cpId}`);
        show();
      }
      return ok;
    },
  });
} catch (e) {
  const reason = listenErrorText(e, config.listen);
  console.error(`EV_CP_E: error: cannot listen on port ${config.port}: ${reason}`);
  Deno.exit(1);
}
onShutdown("health server", () => server.close());

const kafka = createKafka(brokerText, "ev-engine");
const producer = new JsonProducer(kafka);
const sender = new TelemetrySender(producer, topics.telemetry, log);

function send(messages: TelemetryMessage[]): void {
  show();
  sender.send(messages);
}

try {
  await producer.connect();
  onShutdown("kafka producer", async () => {
    await sender.idle();
    await producer.disconnect();
  });
  const consumer = await startConsumer({
    kafka,
    groupId: `ev-engine-${crypto.randomUUID()}`,
    topics: [topics.control],
    fromBeginning: false,
    parse: parseControlMessage,
    onBatch: (messages) => {
      for (const { message } of messages) send(engine.control(message, Date.now()));
      show();
    },
  });
  onShutdown("kafka consumer", () => consumer.stop());
} catch (e) {
  console.error(`EV_CP_E: error: cannot use the Kafka broker at ${brokerText}: ${errorText(e)}`);
  await shutdown(1, "could not start");
}

const ticker = setInterval(() => send(engine.tick()), 1000);
onShutdown("ticker", () => clearInterval(ticker));
log.info(`health checks on port ${server.port} (address ${config.listen}); Kafka at ${brokerText}`);
show();

void readCommands(
  { f: "fault", u: "unplug", q: "quit" },
  { fault: "fault_on", ko: "fault_on", ok: "fault_off", unplug: "unplug", quit: "quit" },
  (command) => {
    if (command === "quit") void shutdown(0, "quit");
    else if (command === "unplug") send(engine.unplug());
    else {
      const on = command === "fault" ? !engine.faulty : command === "fault_on";
      send(engine.setFault(on));
      log.info(on ? "simulated fault ON: answering KO" : "simulated fault OFF: answering OK");
    }
    show();
  },
);
