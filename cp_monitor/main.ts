/**
 * EV_CP_M — a charging point's health monitor: registers the CP with Central over TCP,
 * keeps that link alive, checks its engine every second and reports AVERIA at once when
 * the engine answers KO or not at all, and OK when it recovers.
 *
 * Usage: EV_CP_M <engine_host:port> <central_host:port>[,<host:port>…] <cp_id>
 *
 * @module
 */
import { setTimeout as delay } from "node:timers/promises";
import {
  parseCommandLine,
  parseHostPort,
  parseHostPortList,
  parseId,
  parseNumber,
  UsageError,
} from "../shared/process/cli.ts";
import { hostPortText } from "../shared/net/host_port.ts";
import { readCommands, restoreTerminal } from "../shared/term/input.ts";
import { logger } from "../shared/process/log.ts";
import type { Health } from "../shared/protocol/messages.ts";
import { pairingKey } from "../shared/protocol/pairing.ts";
import { readPairingFile } from "../shared/process/pairing_file.ts";
import { readPemFile } from "../shared/net/pem_file.ts";
import { handleSignals, onShutdown, shutdown } from "../shared/process/shutdown.ts";
import { StatusLine } from "../shared/term/status_line.ts";
import { CentralLink, LINK_DEFAULTS } from "./central_link.ts";
import { EngineChecker } from "./engine_checker.ts";
import { KEY_SUPPLY_S, localOrder } from "./local_command.ts";
import { healthChangeLine, monitorStatusText } from "./operator_text.ts";

const log = logger("monitor");

const spec = {
  name: "EV_CP_M",
  summary: "health monitor of a charging point: links it to Central and watches its engine",
  positionals: [
    { name: "engine_host:port", help: "its engine's health port, e.g. 127.0.0.1:7001" },
    {
      name: "central_host:port",
      help: "EV_Central's socket port, e.g. 192.168.1.20:7000; several, comma-separated, " +
        "for an active Central and its standbys: the monitor links to the one that serves",
    },
    { name: "cp_id", help: "this charging point's id, e.g. CP-01" },
  ],
  options: {
    location: {
      type: "string" as const,
      arg: "<text>",
      help: "where the CP is",
      default: "Unknown location",
    },
    price: { type: "string" as const, arg: "<eur_per_kwh>", help: "price", default: "0.35" },
    secret: {
      type: "string" as const,
      arg: "<secret>",
      help: "this CP's secret, when Central requires one (better: EV_CP_SECRET)",
    },
    "tls-ca": {
      type: "string" as const,
      arg: "<file>",
      help: "talk to Central over TLS, trusting this PEM CA certificate " +
        "(scripts/tls-certs.sh makes it)",
    },
    pair: {
      type: "string" as const,
      arg: "<secret>",
      help: "its engine's pairing secret (better: EV_PAIR_SECRET); without one, read from the " +
        "engine's file on this PC, ~/.evcharging/pairing/engine-<port>",
    },
  },
  notes: [
    `Keys: p = PARAR (out of order), a = ACTIVAR, s = SUMINISTRAR ${KEY_SUPPLY_S} s, q = quit.`,
    "With stdin not a terminal, commands are read as lines: parar, activar, suministrar <seconds>, quit.",
  ],
};

const config = parseCommandLine(spec, Deno.args, ({ positionals, options }) => {
  const location = options.location!.trim();
  if (location.length === 0 || location.length > 120) {
    throw new UsageError("--location must have 1 to 120 characters");
  }
  return {
    engine: parseHostPort(positionals[0], "engine_host:port"),
    centrals: parseHostPortList(positionals[1], "central_host:port"),
    cpId: parseId(positionals[2], "cp_id"),
    location,
    price: parseNumber(options.price!, "--price", 0, 100),
    secret: options.secret ?? Deno.env.get("EV_CP_SECRET") ?? undefined,
    pair: options.pair ?? Deno.env.get("EV_PAIR_SECRET") ?? undefined,
    tlsCa: options["tls-ca"] === undefined
      ? undefined
      : readPemFile(options["tls-ca"], "--tls-ca", "certificate"),
  };
});

handleSignals();
onShutdown("terminal", restoreTerminal);
const status = new StatusLine("STATUS");
onShutdown("status line", () => status.close());

let health: Health | undefined;
let detail = "not checked yet";
let lastCheck = "";
let linkText = "connecting to Central…";

function draw(): void {
  status.set(monitorStatusText({
    cpId: config.cpId,
    health,
    detail,
    registered: link.registered,
    linkText,
    central: hostPortText(link.central),
    lastCheck,
    tty: status.tty,
  }));
}

const link = new CentralLink(
  config.centrals,
  {
    cp_id: config.cpId,
    location: config.location,
    price_eur_kwh: config.price,
    secret: config.secret,
  },
  "KO",
  {
    up: (message) => {
      status.print(`Central: ${message}`);
      // The registration brought a new key: the engine signs with it from the next reading.
      checker.checkNow();
      draw();
    },
    down: (why) => {
      linkText = `not linked (${why}; retrying)`;
      log.warn(`${why}; retrying`);
      draw();
    },
    refused: (reason) => {
      console.error(`EV_CP_M: error: Central refused ${config.cpId}: ${reason}`);
      void shutdown(1, "refused by Central");
    },
    notice: (message) => status.print(`Central: ${message}`),
  },
  { ...LINK_DEFAULTS, tlsCa: config.tlsCa },
);
onShutdown("central link", () => link.stop());

const checked = Promise.withResolvers<void>();
const checker = new EngineChecker(
  config.engine,
  config.cpId,
  (h, d) => {
    checked.resolve();
    lastCheck = new Date().toLocaleTimeString();
    if (h !== health) {
      const line = healthChangeLine(health, h, d, link.registered);
      health = h;
      detail = d;
      link.setHealth(h);
      if (line) log[line.level](line.text);
    }
    draw();
  },
  1000,
  pairingKeyOf,
  () => link.cpKey,
);
onShutdown("engine checker", () => checker.stop());

/** The key of the engine's pairing secret: given, or its file on this PC. */
async function pairingKeyOf(): Promise<CryptoKey | undefined> {
  const secret = config.pair ?? await readPairingFile(config.engine.port);
  return secret === undefined ? undefined : await pairingKey(secret);
}

log.info(
  `CP ${config.cpId}: engine at ${hostPortText(config.engine)}, ` +
    `Central at ${config.centrals.map(hostPortText).join(", ")}`,
);
checker.start();
// Register with the engine's real health, not a guess (the first check takes milliseconds).
await Promise.race([checked.promise, delay(1500)]);
void link.run();

function local(command: string, argument: string): void {
  const order = localOrder(command, argument);
  if ("error" in order) status.print(order.error);
  else if (!link.sendLocal(order.message)) {
    status.print(`${command}: not linked to Central right now; try again`);
  }
}

void readCommands(
  { q: "quit", p: "parar", a: "activar", s: "suministrar" },
  { quit: "quit", parar: "parar", activar: "activar", suministrar: "suministrar" },
  (command, argument) => {
    if (command === "quit") void shutdown(0, "quit: closing the link to Central");
    else local(command, argument);
  },
  (text) => status.print(`unknown command "${text}" (parar, activar, suministrar <s>, quit)`),
);
