/**
 * EV_Driver — a customer: requests a charge at each CP of its requests file in turn (or at
 * the CP ids typed at a prompt, or at one `--cp`), shows the answer and the live charge,
 * waits for the ticket, keeps it as JSON, waits 4 s, goes on.
 *
 * Usage: EV_Driver <kafka_host:port> <driver_id> [--file requests.txt | --cp CP-01]
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import { parseCommandLine, parseHostPort, parseId, parseNumber } from "../shared/process/cli.ts";
import { hostPortText } from "../shared/net/host_port.ts";
import { createKafka } from "../shared/kafka/client.ts";
import { startConsumer } from "../shared/kafka/consumer.ts";
import { JsonProducer } from "../shared/kafka/producer.ts";
import { errorText, logger } from "../shared/process/log.ts";
import {
  type ControlMessage,
  parseControlMessage,
  parseTelemetryMessage,
  type RequestsMessage,
  type TelemetryMessage,
} from "../shared/protocol/messages.ts";
import { handleSignals, onShutdown, shutdown } from "../shared/process/shutdown.ts";
import { StatusLine } from "../shared/term/status_line.ts";
import { topicNames } from "../shared/kafka/topics.ts";
import { chargeAt, type Outcome, summarize } from "./charge_flow.ts";
import { ConsoleView } from "./console_view.ts";
import { Inbox } from "./inbox.ts";
import { DEFAULT_FILE, requestSource } from "./request_source.ts";

const log = logger("driver");

/** Pause between one ticket and the next request, as the spec asks. */
const PAUSE_S = 4;

const spec = {
  name: "EV_Driver",
  summary: "a driver: requests charges at the CPs listed in a file, one after another",
  positionals: [
    { name: "kafka_host:port", help: "Kafka broker, e.g. 192.168.1.20:9092" },
    { name: "driver_id", help: "this driver's id, e.g. D-23" },
  ],
  options: {
    file: {
      type: "string" as const,
      arg: "<path>",
      help: `requests file: one CP id per line (default ${DEFAULT_FILE}; without it, a prompt)`,
    },
    cp: { type: "string" as const, arg: "<cp_id>", help: "request one charge at this CP" },
    tickets: {
      type: "string" as const,
      arg: "<dir>",
      help: "folder where each ticket is saved as <session_id>.json",
      default: "tickets",
    },
    "answer-timeout": {
      type: "string" as const,
      arg: "<seconds>",
      help: "give a request up when Central has not answered within this time",
      default: "10",
    },
    "silence-timeout": {
      type: "string" as const,
      arg: "<seconds>",
      help: "give a charge up after this long without telemetry or ticket",
      default: "30",
    },
  },
  notes: ["Ctrl+C gives up the pending request or ends the running charge, and exits."],
};

const config = parseCommandLine(spec, Deno.args, ({ positionals, options }) => ({
  broker: parseHostPort(positionals[0], "kafka_host:port"),
  driverId: parseId(positionals[1], "driver_id"),
  file: options.file,
  cp: options.cp === undefined ? undefined : parseId(options.cp, "--cp"),
  tickets: options.tickets!,
  answerTimeoutMs: 1000 * parseNumber(options["answer-timeout"]!, "--answer-timeout", 1, 3600),
  silenceTimeoutMs: 1000 * parseNumber(options["silence-timeout"]!, "--silence-timeout", 2, 3600),
}));

const status = new StatusLine("CHARGING");
const view = new ConsoleView({ status, ticketsDir: config.tickets });
const source = await requestSource({ cp: config.cp, file: config.file }, view);
if ("errors" in source) {
  for (const e of source.errors) console.error(`EV_Driver: error: ${e}`);
  Deno.exit(1);
}
try {
  await Deno.mkdir(config.tickets, { recursive: true });
} catch (e) {
  console.error(
    `EV_Driver: error: cannot create tickets folder "${config.tickets}": ${errorText(e)}`,
  );
  Deno.exit(1);
}

handleSignals();
onShutdown("status line", () => status.close());
const brokerText = hostPortText(config.broker);
const topics = topicNames();
const inbox = new Inbox<ControlMessage | TelemetryMessage>();
const stop = new AbortController();
const me = config.driverId;
// Runs after the charge's closer (closers run newest first): a cancelled charge's ticket is
// on disk before the process exits.
onShutdown("tickets", () => view.saved());

const kafka = createKafka(brokerText, `ev-driver-${me}`);
const producer = new JsonProducer(kafka);
try {
  await producer.connect();
  onShutdown("kafka producer", () => producer.disconnect());
  const consumer = await startConsumer({
    kafka,
    groupId: `ev-driver-${me}-${crypto.randomUUID()}`,
    topics: [topics.control, topics.telemetry],
    fromBeginning: false,
    parse: (raw, r): ControlMessage | TelemetryMessage =>
      r.topic === topics.control ? parseControlMessage(raw) : parseTelemetryMessage(raw),
    // Other programs' traffic is not this driver's business: skipped quietly.
    onInvalid: (r, error) => log.debug(`skipped ${r.topic} message: ${error}`),
    onBatch: (messages) => {
      for (const { message: m } of messages) {
        if ("driver_id" in m && m.driver_id === me) inbox.push(m);
      }
    },
  });
  onShutdown("kafka consumer", () => consumer.stop());
} catch (e) {
  console.error(`EV_Driver: error: cannot use the Kafka broker at ${brokerText}: ${errorText(e)}`);
  await shutdown(1, "could not start");
}

// Ctrl+C: the running flow sends its cancel (and waits briefly for the ticket) before the
// Kafka clients close.
let flow: Promise<unknown> = Promise.resolve();
onShutdown("charge", async () => {
  stop.abort();
  await flow;
});

const io = {
  driverId: me,
  inbox,
  view,
  send: (m: RequestsMessage, key: string) => producer.send(topics.requests, [{ key, value: m }]),
};

/** The pause before the next request, counted down a second at a time; Ctrl+C ends it. */
async function pause(): Promise<void> {
  for (let left = PAUSE_S; left > 0 && !stop.signal.aborted; left--) {
    view.waiting(left, PAUSE_S);
    // Rejects only when aborted, which the loop's condition then sees.
    await delay(1000, undefined, { signal: stop.signal }).catch(() => {});
  }
  view.waited();
}

const outcomes: Outcome[] = [];
log.info(`driver ${me}: ${source.describe}; Kafka at ${brokerText}`);
for await (const cpId of source.ids) {
  if (outcomes.length > 0) await pause();
  if (stop.signal.aborted) break;
  const run = chargeAt(
    cpId,
    io,
    { answerTimeoutMs: config.answerTimeoutMs, silenceTimeoutMs: config.silenceTimeoutMs },
    stop.signal,
  );
  flow = run;
  const outcome = await run;
  outcomes.push(outcome);
  if (stop.signal.aborted) break;
}
await view.saved(); // the last ticket's "saved" line comes before the summary
view.summary(summarize(me, outcomes));
await shutdown(0, "all requests done");
