/**
 * The demo's command line: every port it uses comes from an option with today's values as
 * defaults, checked before anything starts (one line and exit code 2 for a bad one).
 *
 * @module
 */
import {
  type Parsed,
  parseHostPort,
  parseNumber,
  parsePort,
  UsageError,
} from "../shared/process/cli.ts";
import { hostPortText } from "../shared/net/host_port.ts";

/** The broker's port the demo uses (or starts a broker on) unless told otherwise. */
export const DEFAULT_KAFKA_PORT = 9092;

/** The demo's charging points; their engines' ports come from `--engine-ports`, in order. */
export const DEMO_CPS = [
  { id: "CP-01", location: "C/Italia 5, Alicante", price: "0.35" },
  { id: "CP-02", location: "Plaza Mayor 1, Madrid", price: "0.42" },
  { id: "CP-03", location: "Rambla 10, Barcelona", price: "0.29" },
] as const;

/** What `./dev demo` accepts. */
export const DEMO_SPEC = {
  name: "./dev demo",
  summary: "Kafka, EV_Central, 3 charging points and 2 drivers on this machine",
  positionals: [],
  options: {
    scenario: {
      type: "boolean" as const,
      help: "play the spec's demo scenarios on their own, check each on Central's API, then " +
        "stop everything (exit code 0 when every outcome was seen)",
    },
    plain: { type: "boolean" as const, help: "no tmux: every program's output here, prefixed" },
    stop: { type: "boolean" as const, help: "end a tmux demo left running" },
    kafka: {
      type: "string" as const,
      arg: "<host:port>",
      help: "use the Kafka broker already running there (the demo starts none)",
    },
    "kafka-port": {
      type: "string" as const,
      arg: "<port>",
      help: `port of the Kafka broker on 127.0.0.1, started unless one answers there ` +
        `(default: ${DEFAULT_KAFKA_PORT}; Docker compose only serves ${DEFAULT_KAFKA_PORT})`,
    },
    "central-port": {
      type: "string" as const,
      arg: "<port>",
      help: "EV_Central's port for the monitors",
      default: "7000",
    },
    http: {
      type: "string" as const,
      arg: "<port>",
      help: "EV_Central's HTTP API and web panel",
      default: "8080",
    },
    "engine-ports": {
      type: "string" as const,
      arg: "<p1,p2,p3>",
      help: `health ports of the engines of ${DEMO_CPS.map((c) => c.id).join(", ")}, which ` +
        "their monitors reach at 127.0.0.1",
      default: "7001,7002,7003",
    },
    duration: {
      type: "string" as const,
      arg: "<seconds>",
      help: "how long each supply lasts (the demo without --scenario)",
      default: "20",
    },
    db: {
      type: "string" as const,
      arg: "<file>",
      help: "Central's database (default: a fresh one)",
    },
    pace: {
      type: "string" as const,
      arg: "<seconds>",
      help: "with --scenario: how long to hold each outcome for people watching",
      default: "5",
    },
  },
  notes: [
    "Without --scenario: on a terminal with tmux, a pane per program (F10 stops everything);",
    "otherwise every program's output here, prefixed with its name (Ctrl+C stops everything).",
    "With --scenario: one line per step here, each program's output in a log file of its own.",
  ],
};

/** The demo's settings, every port included. */
export interface DemoConfig {
  scenario: boolean;
  plain: boolean;
  stop: boolean;
  /** The broker's bootstrap address. */
  kafka: string;
  /** Whether the demo may start a broker there when none answers (not with `--kafka`). */
  startBroker: boolean;
  kafkaPort: number;
  centralPort: number;
  httpPort: number;
  /** One per {@link DEMO_CPS} entry, in order. */
  enginePorts: number[];
  durationS: number;
  db?: string;
  paceS: number;
}

/** Checks the parsed options; throws {@link UsageError} naming the first bad one. */
export function demoConfig({ options }: Parsed<typeof DEMO_SPEC.options>): DemoConfig {
  if (options.kafka !== undefined && options["kafka-port"] !== undefined) {
    throw new UsageError("give --kafka <host:port> or --kafka-port <port>, not both");
  }
  if (options.stop && options.scenario) {
    throw new UsageError("--stop ends a tmux demo; it does not go with --scenario");
  }
  const given = options.kafka === undefined ? undefined : parseHostPort(options.kafka, "--kafka");
  const kafkaPort = given?.port ??
    parsePort(options["kafka-port"] ?? String(DEFAULT_KAFKA_PORT), "--kafka-port");
  const centralPort = parsePort(options["central-port"]!, "--central-port");
  const httpPort = parsePort(options.http!, "--http");
  const enginePorts = options["engine-ports"]!.split(",").map((p) =>
    parsePort(p.trim(), "each of --engine-ports")
  );
  if (enginePorts.length !== DEMO_CPS.length) {
    throw new UsageError(
      `--engine-ports needs ${DEMO_CPS.length} ports separated by commas (one per CP), ` +
        `got "${options["engine-ports"]}"`,
    );
  }
  // The demo's own listeners all sit on this machine; a broker given by --kafka may be elsewhere.
  const local: [string, number][] = [
    ["--central-port", centralPort],
    ["--http", httpPort],
    ...enginePorts.map((p, i): [string, number] => [`the engine port of ${DEMO_CPS[i].id}`, p]),
  ];
  if (!given) local.unshift(["--kafka-port", kafkaPort]);
  for (const [i, [what, port]] of local.entries()) {
    const clash = local.slice(0, i).find(([, p]) => p === port);
    if (clash) throw new UsageError(`${what} and ${clash[0]} are both port ${port}`);
  }
  return {
    scenario: options.scenario,
    plain: options.plain,
    stop: options.stop,
    kafka: given ? hostPortText(given) : `127.0.0.1:${kafkaPort}`,
    startBroker: !given,
    kafkaPort,
    centralPort,
    httpPort,
    enginePorts,
    durationS: parseNumber(options.duration!, "--duration", 1, 86_400),
    db: options.db,
    paceS: parseNumber(options.pace!, "--pace", 0, 60),
  };
}
