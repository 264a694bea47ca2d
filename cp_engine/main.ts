/**
 * EV_CP_E — a charging point's engine: answers its monitor's health checks, takes orders
 * from Central over Kafka and supplies energy, sending telemetry every second. Every reading
 * and end is written to its record file (and made durable) before it is sent; an end is sent
 * again until Central acknowledges it, also after a restart.
 *
 * Usage: EV_CP_E <kafka_host:port> [listen_port] [--listen <ip>] [--record <file>]
 *        [--autonomy <s>] [--pair <secret>]
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
import { createKafka, ensureTopics } from "../shared/kafka/client.ts";
import { CREDENTIAL_OPTIONS, kafkaCredentials } from "../shared/kafka/credentials.ts";
import { kafkaErrorText } from "../shared/kafka/access.ts";
import { startConsumer } from "../shared/kafka/consumer.ts";
import { JsonProducer } from "../shared/kafka/producer.ts";
import { errorText, logger } from "../shared/process/log.ts";
import { parseControlMessage } from "../shared/protocol/messages.ts";
import { newPairingSecret, pairingKey, validProof } from "../shared/protocol/pairing.ts";
import { CurrentKey } from "../shared/protocol/record_mac.ts";
import { readPairingFile, writePairingFile } from "../shared/process/pairing_file.ts";
import { handleSignals, onShutdown, shutdown } from "../shared/process/shutdown.ts";
import { groupFor, topicNames } from "../shared/kafka/topics.ts";
import { retry } from "../shared/process/retry.ts";
import { type Effects, Engine } from "./engine.ts";
import { RecordFile } from "./record_file.ts";
import type { Replay } from "./meter_record.ts";
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

/** How often an end of supply is sent again until Central acknowledges it. */
export const END_RESEND_MS = 3000;

/** A supply ends on its own after its monitor or Kafka has been silent this long (default). */
export const DEFAULT_AUTONOMY_S = 10;

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
    record: {
      type: "string" as const,
      arg: "<file>",
      help: "its append-only record of what it delivered " +
        "(default: ev-engine-<listen_port>.jsonl in the working directory)",
    },
    pair: {
      type: "string" as const,
      arg: "<secret>",
      help: "the pairing secret its monitor must prove it holds (better: EV_PAIR_SECRET); " +
        "without one the engine keeps its own in ~/.evcharging/pairing/engine-<listen_port>, " +
        "where a monitor on this PC reads it",
    },
    autonomy: {
      type: "string" as const,
      arg: "<seconds>",
      help: "a supply stops on its own (CONNECTION_LOST) after this long without a health " +
        "check from its monitor or without contact with Kafka",
      default: String(DEFAULT_AUTONOMY_S),
    },
    ...CREDENTIAL_OPTIONS,
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
  autonomyS: parseNumber(options.autonomy!, "--autonomy", 1, 3600),
  record: options.record,
  pair: options.pair ?? Deno.env.get("EV_PAIR_SECRET") ?? undefined,
  kafka: kafkaCredentials(options),
}));
const port = config.port;
const recordPath = config.record ?? `ev-engine-${port}.jsonl`;

handleSignals();
onShutdown("terminal", restoreTerminal);
const brokerText = hostPortText(config.broker);
const topics = topicNames();
const engine = new Engine({
  powerKw: config.powerKw,
  durationS: config.durationS,
  staleMs: 15_000,
  autonomyMs: config.autonomyS * 1000,
});
const opened = openRecord(recordPath);
const record = opened.file;
onShutdown("record", () => record?.close());
// Before any order is taken: a session in the record is never started again.
const recovered = engine.restore(opened.replay, Date.now());
for (const w of opened.replay.warnings) log.warn(`record ${recordPath}: ${w}`);
/** Resolves once the producer is connected: orders are taken only then. */
const kafkaReady = Promise.withResolvers<void>();
const status = new StatusLine("STATUS");
onShutdown("status line", () => status.close());

function show(): void {
  status.set(engineStatusText(engine, status.tty, Date.now()));
}

// Only a monitor that holds the pairing secret may say which CP this engine serves.
let pairingFile: string | undefined;
let pairSecret = config.pair;
if (!pairSecret) {
  pairSecret = await readPairingFile(port) ?? newPairingSecret();
  pairingFile = await writePairingFile(port, pairSecret);
  log.info(`pairing secret in ${pairingFile}: a monitor on this PC reads it`);
}
const pairing = await pairingKey(pairSecret);
const unpaired = (cpId: string) =>
  `no valid pairing proof for ${cpId}: the monitor must hold this engine's pairing secret ` +
  (pairingFile ? `(on this PC it reads ${pairingFile}; elsewhere give both --pair)` : "(--pair)");

/** The CP's key for its telemetry's codes: the last its monitor handed over, in memory only. */
const cpKey = new CurrentKey();

let server;
try {
  server = startHealthServer(config.listen, config.port, {
    health: () => engine.health(),
    claim: async (cpId, proof, key) => {
      if (proof === undefined || !(await validProof(pairing, cpId, proof, key))) {
        return unpaired(cpId);
      }
      const first = engine.cpId === undefined;
      if (!engine.claim(cpId)) return `this engine belongs to another CP, not ${cpId}`;
      if (key) cpKey.set(key);
      engine.heard("monitor", Date.now());
      if (first) {
        log.info(`serving CP ${cpId}`);
        show();
        void consumeOrders(cpId);
      }
      return undefined;
    },
  });
} catch (e) {
  const reason = listenErrorText(e, config.listen);
  console.error(`EV_CP_E: error: cannot listen on port ${config.port}: ${reason}`);
  Deno.exit(1);
}
onShutdown("health server", () => server.close());

const kafka = createKafka(brokerText, "ev-engine", config.kafka);
const producer = new JsonProducer(kafka);
const sender = new TelemetrySender(producer, topics.telemetry, log, () => cpKey.get());

/** Makes the record lines durable, then sends: a message never outruns its record. */
function apply(effects: Effects): void {
  try {
    record?.append(effects.record);
  } catch (e) {
    // Sent anyway: Central's figures are then right, only the record lacks them.
    log.error(`cannot write the record ${recordPath}: ${errorText(e)}`);
  }
  show();
  sender.send(effects.send);
}

try {
  await producer.connect();
  onShutdown("kafka producer", async () => {
    await sender.idle();
    await producer.disconnect();
  });
  await ensureTopics(kafka, [topics.control, topics.telemetry]);
} catch (e) {
  console.error(
    `EV_CP_E: error: cannot use the Kafka broker at ${brokerText}: ${kafkaErrorText(e, kafka)}`,
  );
  await shutdown(1, "could not start");
}

kafkaReady.resolve();
if (recovered.send.length > 0) {
  log.info(`record ${recordPath}: ${recovered.send.length} end(s) of supply to report`);
}
apply(recovered);

const ticker = setInterval(() => apply(engine.second(Date.now())), 1000);
onShutdown("ticker", () => clearInterval(ticker));
const resender = setInterval(() => sender.send(engine.unackedEnds(Date.now())), END_RESEND_MS);
onShutdown("resender", () => clearInterval(resender));
log.info(`health checks on port ${server.port} (address ${config.listen}); Kafka at ${brokerText}`);
show();

void readCommands(
  { f: "fault", u: "unplug", q: "quit" },
  { fault: "fault_on", ko: "fault_on", ok: "fault_off", unplug: "unplug", quit: "quit" },
  (command) => {
    if (command === "quit") void shutdown(0, "quit");
    else if (command === "unplug") apply(engine.unplugged(Date.now()));
    else {
      const on = command === "fault" ? !engine.faulty : command === "fault_on";
      apply(engine.fault(on, Date.now()));
      log.info(on ? "simulated fault ON: answering KO" : "simulated fault OFF: answering OK");
    }
    show();
  },
);

/**
 * The consumer of orders is replaced when no fetch has completed for this long (a fetch
 * returns every ~0.1 s while Kafka is reachable): after a partition, kafkajs' own recovery
 * on the dead connections took 20-27 s, during which Central's orders went unheard.
 */
const ORDERS_STALL_MS = 5000;

/**
 * Takes Central's orders once the monitor has said which CP this is. The group is the CP's
 * own, so a restarted engine resumes from its committed offsets and acts on the orders sent
 * while it was down; a new group starts at the oldest record, and what is older than the
 * record's last line (or than the start, without a record) is skipped by the engine.
 */
async function consumeOrders(cpId: string): Promise<void> {
  const groupId = groupFor(`ev-engine-${cpId}`, topics.control);
  const stop = new AbortController();
  onShutdown("kafka consumer", () => stop.abort());
  await kafkaReady.promise;
  try {
    const consumer = await retry(() =>
      startConsumer({
        kafka,
        groupId,
        topics: [topics.control],
        fromBeginning: true,
        parse: parseControlMessage,
        onFetch: () => engine.heard("kafka", Date.now()),
        stallRebuildMs: ORDERS_STALL_MS,
        onBatch: (messages) => {
          for (const { message } of messages) apply(engine.handle(message, Date.now()));
          show();
        },
      }), {
      delayMs: 2000,
      signal: stop.signal,
      onError: (e, n) => {
        if (n === 1) log.warn(`cannot join consumer group ${groupId} yet: ${errorText(e)}`);
      },
    });
    onShutdown("kafka consumer group", () => consumer.stop());
    log.info(`taking orders for ${cpId} (consumer group ${groupId})`);
  } catch {
    // shutting down
  }
}

/**
 * Opens the record. Without it the engine does not start: its record is the meter Central
 * settles to, and a supply it could not record could be neither reported after a crash nor
 * refused when its order came again.
 */
function openRecord(path: string): { file?: RecordFile; replay: Replay } {
  try {
    return RecordFile.open(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotCapable
      ? "not allowed (run it with --allow-read --allow-write)"
      : errorText(e);
    console.error(`EV_CP_E: error: cannot open its record ${path}: ${why}`);
    Deno.exit(1);
  }
}
