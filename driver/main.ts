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
import { CREDENTIAL_OPTIONS, kafkaCredentials } from "../shared/kafka/credentials.ts";
import { KafkaAccessDenied, kafkaErrorText } from "../shared/kafka/access.ts";
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
import { BrokerWatch } from "./broker_watch.ts";
import { chargeAt, LAST_WORD_MS, type Outcome, summarize } from "./charge_flow.ts";
import { ConsoleView } from "./console_view.ts";
import { Inbox } from "./inbox.ts";
import { DEFAULT_FILE, type RequestSource, requestSource } from "./request_source.ts";
import { SeenIds, sortMessage } from "./mail_sort.ts";
import { driverGroup, groupMembers, pinStartOffsets } from "./start_offsets.ts";
import { TicketDesk } from "./ticket_desk.ts";

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
      help: "give a charge up after this long without telemetry or ticket " +
        "(time while the broker cannot be reached is not counted)",
      default: "30",
    },
    "settle-timeout": {
      type: "string" as const,
      arg: "<seconds>",
      help: "after the last request, wait this long for the final tickets of provisional ones",
      default: "30",
    },
    ...CREDENTIAL_OPTIONS,
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
  settleTimeoutMs: 1000 * parseNumber(options["settle-timeout"]!, "--settle-timeout", 0, 3600),
  kafka: kafkaCredentials(options),
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
const broker = new BrokerWatch();
const desk = new TicketDesk();
/** This run's request ids: their tickets end this run's charges and count in its summary. */
const requested = new Set<string>();

/**
 * A ticket is shown (and saved) as it arrives, also after its charge is over; the first of
 * its session also ends the charge that waits for it. One of an earlier run (sent while this
 * driver was not running) is shown and saved the same way, marked, and counts in no summary.
 */
function receiveTicket(t: Ticket, earlier: boolean): void {
  const news = desk.receive(t);
  if (news === "duplicate") return;
  view.ticket(t, news, earlier);
  if (news === "new" && !earlier) inbox.push(t);
}
// Runs after the charge's closer (closers run newest first): a cancelled charge's ticket is
// on disk before the process exits.
onShutdown("tickets", () => view.saved());

const kafka = createKafka(brokerText, `ev-driver-${me}`, config.kafka);
const producer = new JsonProducer(kafka);
try {
  await producer.connect();
  onShutdown("kafka producer", () => producer.disconnect());
  // Control through the driver id's own group, which resumes where the last run stopped
  // (tickets sent while the driver was away, I3); telemetry is live only: a group of this run.
  const controlGroup = driverGroup(me, topics.control);
  try {
    await pinStartOffsets(kafka, controlGroup, topics.control);
  } catch (e) {
    // Only a group without offsets is pinned; a member in it already started it somewhere.
    log.warn(`could not pin where ${controlGroup} starts (${errorText(e)}); going on`);
  }
  // Control is read twice: this run's group gets every answer and ticket of this run's
  // requests, even with another driver of this id running (the id's group splits its
  // messages between the two); the id's group brings what earlier runs missed. The second
  // copy of a message is dropped.
  const seen = new SeenIds();
  const onBatch =
    (fromRun: boolean) => (messages: { message: ControlMessage | TelemetryMessage }[]) => {
      for (const { message: m } of messages) {
        const sorted = sortMessage(m, me, requested);
        // An earlier run's ticket comes through the id's group only.
        if (sorted === "drop" || (fromRun && sorted === "earlier ticket")) continue;
        if (m.type !== "TELEMETRY" && seen.seen(m.id)) continue;
        if (sorted === "ticket" || sorted === "earlier ticket") {
          receiveTicket(m as Ticket, sorted === "earlier ticket");
        } else inbox.push(m);
      }
    };
  const common = {
    kafka,
    fromBeginning: false,
    // Other programs' traffic is not this driver's business: skipped quietly.
    onInvalid: (r: { topic: string }, error: string) =>
      log.debug(`skipped ${r.topic} message: ${error}`),
    onFetch: () => broker.fetched(),
  };
  const [control, run] = await Promise.all([
    startConsumer<ControlMessage | TelemetryMessage>({
      ...common,
      groupId: controlGroup,
      topics: [topics.control],
      parse: parseControlMessage,
      onBatch: onBatch(false),
    }),
    startConsumer<ControlMessage | TelemetryMessage>({
      ...common,
      groupId: `ev-driver-${me}-${crypto.randomUUID()}`,
      topics: [topics.control, topics.telemetry],
      parse: (raw, r) =>
        r.topic === topics.control ? parseControlMessage(raw) : parseTelemetryMessage(raw),
      onBatch: onBatch(true),
    }),
  ]);
  onShutdown("kafka consumers", () => Promise.all([control.stop(), run.stop()]));
  // Two drivers of one id share the id's group: an earlier run's ticket shows in either.
  const members = await groupMembers(kafka, controlGroup).catch(() => 1);
  if (members > 1) {
    view.say(
      `WARNING: another driver with id ${me} is running: tickets of earlier runs may show ` +
        "in either of the two",
    );
  }
} catch (e) {
  console.error(
    `EV_Driver: error: cannot use the Kafka broker at ${brokerText}: ${kafkaErrorText(e, kafka)}`,
  );
  await shutdown(1, "could not start");
}

// Ctrl+C: the running flow sends its cancel (and waits briefly for the ticket), and the
// final ticket and the summary come, before the Kafka clients close.
let run: Promise<unknown> = Promise.resolve();
onShutdown("charge", async () => {
  stop.abort();
  await run;
});

/** How often a send that failed is tried again while the driver runs. */
const RESEND_MS = 1000;

/**
 * Sends to Central; while Kafka refuses, says so and tries again (Central drops a request id
 * it has answered before), except once Ctrl+C came: then one try, so that exiting is not held
 * up by a broker that is away.
 */
async function send(m: RequestsMessage, key: string): Promise<void> {
  if (m.type === "CHARGE_REQUEST") requested.add(m.id);
  while (true) {
    try {
      await producer.send(topics.requests, [{ key, value: m }]);
      return;
    } catch (e) {
      // Kafka refused this user the requests topic: no retry will change that.
      if (e instanceof KafkaAccessDenied) {
        console.error(`EV_Driver: error: ${e.message}`);
        // Not awaited: shutdown's closers wait for the charge flow that called this.
        void shutdown(1, "Kafka refused access");
        return;
      }
      broker.sendFailed();
      if (stop.signal.aborted) {
        log.warn(`could not send ${m.type} (${errorText(e)}): the broker is unreachable`);
        return;
      }
      view.waitingFor("broker", 0);
      log.debug(`could not send ${m.type} (${errorText(e)}); trying again`);
      await delay(RESEND_MS, undefined, { signal: stop.signal }).catch(() => {});
    }
  }
}

const io = { driverId: me, inbox, view, send, brokerReachable: () => broker.reachable() };

/** The pause before the next request, counted down a second at a time; Ctrl+C ends it. */
async function pause(): Promise<void> {
  for (let left = PAUSE_S; left > 0 && !stop.signal.aborted; left--) {
    view.waiting(left, PAUSE_S);
    // Rejects only when aborted, which the loop's condition then sees.
    await delay(1000, undefined, { signal: stop.signal }).catch(() => {});
  }
  view.waited();
}

/**
 * Provisional tickets are settled by the CP's own record, which may come later: the driver
 * waits for those finals a while (`--settle-timeout`) before its summary. After Ctrl+C only
 * for Central's last word: the cancel just sent is settled by a live engine within it.
 */
async function awaitSettlement(): Promise<void> {
  const interrupted = stop.signal.aborted;
  // Half the last word's wait: the flow may have used the rest, within the closer's limit.
  const waitMs = interrupted
    ? Math.min(LAST_WORD_MS / 2, config.settleTimeoutMs)
    : config.settleTimeoutMs;
  const deadline = Date.now() + waitMs;
  while (desk.unsettled() > 0 && Date.now() < deadline) {
    if (!interrupted && stop.signal.aborted) break;
    view.settling(desk.unsettled());
    await delay(250, undefined, interrupted ? {} : { signal: stop.signal }).catch(() => {});
  }
  view.waited();
}

/** Every request in turn, the wait for final tickets, and the summary. */
async function runRequests(source: RequestSource): Promise<void> {
  const outcomes: Outcome[] = [];
  log.info(`driver ${me}: ${source.describe}; Kafka at ${brokerText}`);
  for await (const cpId of source.ids) {
    if (outcomes.length > 0) await pause();
    if (stop.signal.aborted) break;
    outcomes.push(
      await chargeAt(
        cpId,
        io,
        { answerTimeoutMs: config.answerTimeoutMs, silenceTimeoutMs: config.silenceTimeoutMs },
        stop.signal,
      ),
    );
    if (stop.signal.aborted) break;
  }
  await awaitSettlement();
  await view.saved(); // the last ticket's "saved" line comes before the summary
  view.summary(summarize(me, outcomes, (session) => desk.latest(session)));
}

run = runRequests(source);
await run;
await shutdown(0, "all requests done");
