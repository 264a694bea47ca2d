/**
 * EV_Driver — a customer: requests a charge at each CP of its requests file in turn (or at
 * the CP ids typed at a prompt, or at one `--cp`), shows the answer and the live charge,
 * waits for the ticket, keeps it as JSON, waits 4 s, goes on.
 *
 * Usage: EV_Driver <kafka_host:port> <driver_id> [--file requests.txt | --cp CP-01]
 *
 * @module
 */
import { join } from "node:path";
import { parseCommandLine, parseHostPort, parseId, parseNumber } from "../shared/process/cli.ts";
import { hostPortText } from "../shared/net/host_port.ts";
import { paint } from "../shared/term/colors.ts";
import { stdinLines } from "../shared/term/input.ts";
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
  type Ticket,
} from "../shared/protocol/messages.ts";
import { handleSignals, onShutdown, shutdown } from "../shared/process/shutdown.ts";
import { StatusLine } from "../shared/term/status_line.ts";
import { topicNames } from "../shared/kafka/topics.ts";
import { ID_PATTERN } from "../shared/protocol/validate.ts";
import { chargeAt, type DriverView, type Outcome, summarize } from "./charge_flow.ts";
import { Inbox } from "./inbox.ts";
import { parseRequestsFile } from "./requests_file.ts";

const log = logger("driver");

/** Pause between one ticket and the next request, as the spec asks. */
const PAUSE_MS = 4000;
const DEFAULT_FILE = "requests.txt";

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

/** Where the CP ids come from: a file, one --cp, or a prompt. */
async function requestSource(): Promise<{ ids: AsyncIterable<string>; describe: string }> {
  if (config.cp) return { ids: list([config.cp]), describe: `--cp ${config.cp}` };
  const path = config.file ?? DEFAULT_FILE;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (config.file === undefined && e instanceof Deno.errors.NotFound) {
      return { ids: prompted(), describe: "the prompt (no requests.txt here)" };
    }
    console.error(`EV_Driver: error: cannot read requests file "${path}": ${errorText(e)}`);
    Deno.exit(1);
  }
  const { ids, errors } = parseRequestsFile(text);
  if (errors.length) {
    for (const e of errors) console.error(`EV_Driver: error: ${path}:${e.line}: ${e.message}`);
    Deno.exit(1);
  }
  return { ids: list(ids), describe: `${ids.length} request(s) from ${path}` };
}

async function* list(ids: string[]): AsyncGenerator<string> {
  yield* ids;
}

async function* prompted(): AsyncGenerator<string> {
  const question = "CP id to charge at (Enter on an empty line or Ctrl+D to finish): ";
  // On a terminal the answer is typed after the question; elsewhere it is a line of its own.
  const ask = () =>
    Deno.stdin.isTerminal()
      ? Deno.stdout.writeSync(new TextEncoder().encode(question))
      : console.log(question);
  ask();
  for await (const line of stdinLines()) {
    if (line === "") return;
    if (ID_PATTERN.test(line)) yield line;
    else console.log(`"${line.slice(0, 40)}" is not a CP id`);
    ask();
  }
}

const source = await requestSource();
try {
  await Deno.mkdir(config.tickets, { recursive: true });
} catch (e) {
  console.error(
    `EV_Driver: error: cannot create tickets folder "${config.tickets}": ${errorText(e)}`,
  );
  Deno.exit(1);
}

handleSignals();
const status = new StatusLine("CHARGING");
onShutdown("status line", () => status.close());
const brokerText = hostPortText(config.broker);
const topics = topicNames();
const inbox = new Inbox<ControlMessage | TelemetryMessage>();
const stop = new AbortController();
const me = config.driverId;
let chargeStarted = 0;

function elapsed(): string {
  const s = Math.floor((Date.now() - chargeStarted) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

async function saveTicket(t: Ticket): Promise<void> {
  const file = join(config.tickets, `${t.session_id}.json`);
  const { type: _type, id: _id, ts: _ts, ...fields } = t;
  const body = {
    ...fields,
    started_at_iso: new Date(t.started_at).toISOString(),
    ended_at_iso: new Date(t.ended_at).toISOString(),
  };
  try {
    await Deno.writeTextFile(file, JSON.stringify(body, null, 2) + "\n");
    status.print(`ticket saved to ${file}`);
  } catch (e) {
    log.error(`cannot save the ticket to ${file}: ${errorText(e)}`);
  }
}

const view: DriverView = {
  requested: (cp) => status.print(`REQUEST ${cp}: asking Central for a charge…`),
  authorized: (a) => {
    chargeStarted = Date.now();
    status.print(paint("green", `AUTHORIZED at ${a.cp_id}: plug in (${a.price_eur_kwh} €/kWh)`));
  },
  denied: (d) => status.print(paint("red", `DENIED at ${d.cp_id}: ${d.message}`)),
  progress: (t) => {
    const text = `${t.cp_id}: ${t.consumo_kwh.toFixed(3)} kWh  ${
      t.importe_eur.toFixed(3)
    } €  ${elapsed()}`;
    status.set(status.tty ? `⚡ ${paint("green", text)}` : text);
  },
  ticket: (t) => {
    const color = t.status === "ENDED" ? "green" : "yellow";
    status.print(
      paint(color, `TICKET ${t.cp_id}: ${t.status} (${t.reason}) `) +
        `${t.consumo_kwh.toFixed(3)} kWh × ${t.price_eur_kwh} €/kWh = ` +
        `${t.importe_eur.toFixed(3)} €` +
        // Scripts and logs get the whole ticket on the line; a person, the saved file.
        (status.tty ? "" : ` ${JSON.stringify(t)}`),
    );
    if (status.tty) status.set(""); // the charge is over: no live line left behind
    void saveTicket(t);
  },
  noAnswer: (cp, s) => status.print(paint("yellow", `NO ANSWER for ${cp} within ${s} s; going on`)),
  lost: (cp, s) => status.print(paint("yellow", `LOST ${cp}: no news for ${s} s; giving up`)),
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
const outcomes: Outcome[] = [];
log.info(`driver ${me}: ${source.describe}; Kafka at ${brokerText}`);
let first = true;
for await (const cpId of source.ids) {
  if (!first) {
    for (let left = PAUSE_MS / 1000; left > 0 && !stop.signal.aborted; left--) {
      status.set(`next request in ${left} s…`);
      if (left === PAUSE_MS / 1000 && !status.tty) {
        console.log(`WAIT ${left} s before the next request`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  first = false;
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
status.print(summarize(me, outcomes));
await shutdown(0, "all requests done");
