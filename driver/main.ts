/**
 * EV_Driver — a customer: requests a charge at each CP of its requests file in turn, shows
 * the answer and the live charge, waits for the ticket, waits 4 s, goes on.
 *
 * Usage: EV_Driver <kafka_host:port> <driver_id> [--file requests.txt]
 *
 * @module
 */
import { parseCommandLine, parseHostPort, parseId, parseNumber } from "../shared/cli.ts";
import { paint } from "../shared/colors.ts";
import { createKafka, JsonProducer, startConsumer } from "../shared/kafka.ts";
import { errorText, logger } from "../shared/log.ts";
import {
  type ControlMessage,
  parseControlMessage,
  parseTelemetryMessage,
  type TelemetryMessage,
} from "../shared/messages.ts";
import { handleSignals, onShutdown, shutdown } from "../shared/shutdown.ts";
import { topicNames } from "../shared/topics.ts";
import { parseJson, ValidationError } from "../shared/validate.ts";
import { chargeAt, type DriverView, type Outcome, summarize } from "./charge_flow.ts";
import { Inbox } from "./inbox.ts";
import { parseRequestsFile } from "./requests_file.ts";

const log = logger("driver");

/** Pause between one ticket and the next request, as the spec asks. */
const PAUSE_MS = 4000;

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
      help: "requests file: one CP id per line",
      default: "requests.txt",
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
};

const config = parseCommandLine(spec, Deno.args, ({ positionals, options }) => ({
  broker: parseHostPort(positionals[0], "kafka_host:port"),
  driverId: parseId(positionals[1], "driver_id"),
  file: options.file!,
  answerTimeoutMs: 1000 * parseNumber(options["answer-timeout"]!, "--answer-timeout", 1, 3600),
  silenceTimeoutMs: 1000 * parseNumber(options["silence-timeout"]!, "--silence-timeout", 2, 3600),
}));

let fileText: string;
try {
  fileText = await Deno.readTextFile(config.file);
} catch (e) {
  console.error(`EV_Driver: error: cannot read requests file "${config.file}": ${errorText(e)}`);
  Deno.exit(1);
}
const { ids, errors } = parseRequestsFile(fileText);
if (errors.length) {
  for (const e of errors) console.error(`EV_Driver: error: ${config.file}:${e.line}: ${e.message}`);
  Deno.exit(1);
}

handleSignals();
const brokerText = `${config.broker.host}:${config.broker.port}`;
const topics = topicNames();
const inbox = new Inbox<ControlMessage | TelemetryMessage>();
const stop = new AbortController();
const me = config.driverId;

const view: DriverView = {
  requested: (cp) => console.log(`REQUEST ${cp}: asking Central for a charge…`),
  authorized: (a) =>
    console.log(paint("green", `AUTHORIZED at ${a.cp_id}: plug in (${a.price_eur_kwh} €/kWh)`)),
  denied: (d) => console.log(paint("red", `DENIED at ${d.cp_id}: ${d.message}`)),
  progress: (t) =>
    console.log(
      `CHARGING ${t.cp_id}: ${t.consumo_kwh.toFixed(3)} kWh  ${t.importe_eur.toFixed(3)} €`,
    ),
  ticket: (t) =>
    console.log(
      paint(
        t.status === "ENDED" ? "green" : "yellow",
        `TICKET ${t.cp_id}: ${t.status} (${t.reason}) `,
      ) +
        `${t.consumo_kwh.toFixed(3)} kWh × ${t.price_eur_kwh} €/kWh = ${
          t.importe_eur.toFixed(3)
        } € ` +
        JSON.stringify(t),
    ),
  noAnswer: (cp, s) => console.log(paint("yellow", `NO ANSWER for ${cp} within ${s} s; going on`)),
  lost: (cp, s) => console.log(paint("yellow", `LOST ${cp}: no news for ${s} s; giving up`)),
};

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
    onBatch: (records) => {
      for (const r of records) {
        try {
          const raw = parseJson(r.text);
          const m = r.topic === topics.control
            ? parseControlMessage(raw)
            : parseTelemetryMessage(raw);
          if ("driver_id" in m && m.driver_id === me) inbox.push(m);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
          log.debug(`skipped ${r.topic} message: ${e.message}`);
        }
      }
    },
  });
  onShutdown("kafka consumer", () => consumer.stop());
} catch (e) {
  console.error(`EV_Driver: error: cannot use the Kafka broker at ${brokerText}: ${errorText(e)}`);
  await shutdown(1, "could not start");
}
onShutdown("charge", () => stop.abort());

const io = {
  driverId: me,
  inbox,
  view,
  send: (m: Parameters<typeof producer.send>[1][number]["value"], key: string) =>
    producer.send(topics.requests, [{ key, value: m }]),
};
const outcomes: Outcome[] = [];
log.info(`driver ${me}: ${ids.length} request(s) from ${config.file}; Kafka at ${brokerText}`);
for (const [i, cpId] of ids.entries()) {
  const outcome = await chargeAt(
    cpId,
    io,
    { answerTimeoutMs: config.answerTimeoutMs, silenceTimeoutMs: config.silenceTimeoutMs },
    stop.signal,
  );
  outcomes.push(outcome);
  if (stop.signal.aborted) break;
  if (i < ids.length - 1) {
    console.log(`WAIT ${PAUSE_MS / 1000} s before the next request`);
    await new Promise((r) => setTimeout(r, PAUSE_MS));
  }
}
console.log(summarize(me, outcomes));
await shutdown(0, "all requests done");
