/**
 * The catalogue of every message EVCharging sends, over Kafka and over TCP.
 *
 * Senders build messages with {@link stamp} and the types below; receivers pass whatever
 * arrived through the `parse*` functions, which return a typed message or throw a
 * {@link ValidationError} naming the bad field. Both ends therefore share one definition.
 *
 * @module
 */
import { encodeFrame } from "./framing.ts";
import { cpKeyField } from "./record_mac.ts";
import {
  bool,
  count,
  type Field,
  id,
  type Infer,
  num,
  object,
  oneOf,
  optional,
  type Spec,
  text,
  timestamp,
  ValidationError,
} from "./validate.ts";

/** Upper bounds that keep a forged message from poisoning totals. */
const MAX_KWH = 1_000_000;
const MAX_EUR = 10_000_000;
const MAX_PRICE = 100;

const kwh = num(0, MAX_KWH);
const eur = num(0, MAX_EUR);
/** Price in € per kWh. */
export const price: Field<number> = num(0, MAX_PRICE);

/** Fields every message of ours carries: a unique id (for de-duplication) and a send time. */
const envelope = { id: id, ts: timestamp };

/** Why a request was denied; the driver shows {@link DENY_TEXT} for it. */
export const DENY_REASONS = [
  "UNKNOWN_CP",
  "PARADO",
  "AVERIADO",
  "DESCONECTADO",
  "BUSY",
  "DRIVER_BUSY",
  "EXPIRED",
  "SETTLING",
] as const;
/** A reason code for a denial. */
export type DenyReason = typeof DENY_REASONS[number];

/** Plain words for each denial reason, shown to drivers. */
export const DENY_TEXT: Record<DenyReason, string> = {
  UNKNOWN_CP: "this charging point does not exist",
  PARADO: "the charging point is out of order (stopped by the operator)",
  AVERIADO: "the charging point is broken down",
  DESCONECTADO: "the charging point is not connected to the central",
  BUSY: "another driver is charging at this point",
  DRIVER_BUSY: "you are already charging at another point",
  EXPIRED: "the request waited too long and expired",
  SETTLING: "the charging point has not yet reported the end of its previous charge",
};

/**
 * Why a supply ended. COMPLETED and UNPLUGGED close a session ENDED; the rest ABORTED.
 * NOT_SUPPLIED, CONNECTION_LOST and ENGINE_RESTART come only from an engine's own record:
 * it never supplied that session (its START never came, or came after Central gave it up);
 * it stopped on its own because it heard neither Kafka nor its monitor for too long; it was
 * stopped mid-supply (killed) and its record's last meter reading is the final one.
 */
export const END_REASONS = [
  "COMPLETED",
  "UNPLUGGED",
  "PARAR",
  "AVERIA",
  "DRIVER_CANCELLED",
  "CP_LOST",
  "TELEMETRY_TIMEOUT",
  "CENTRAL_RESTART",
  "NOT_SUPPLIED",
  "CONNECTION_LOST",
  "ENGINE_RESTART",
] as const;
/** A reason code for the end of a supply. */
export type EndReason = typeof END_REASONS[number];

/** Whether a session ending for `reason` counts as a normal end. */
export function isNormalEnd(reason: EndReason): boolean {
  return reason === "COMPLETED" || reason === "UNPLUGGED";
}

// ---------------------------------------------------------------------------
// Kafka: requests_topic (drivers → Central)

const chargeRequest = {
  type: oneOf("CHARGE_REQUEST"),
  ...envelope,
  driver_id: id,
  cp_id_solicitado: id,
};
/** A driver asks to charge at a CP (the spec's `{driver_id, cp_id_solicitado}`). */
export type ChargeRequest = Infer<typeof chargeRequest>;

const cancelRequest = {
  type: oneOf("CANCEL_REQUEST"),
  ...envelope,
  driver_id: id,
  request_id: id,
};
/** A driver gives up a pending request or ends its running charge. */
export type CancelRequest = Infer<typeof cancelRequest>;

/** Anything valid on requests_topic. */
export type RequestsMessage = ChargeRequest | CancelRequest;

/**
 * Parses a requests_topic message. A message in exactly the spec's shape (no type, id or ts)
 * is accepted as a charge request: `fallback` supplies the id and time (from the Kafka record)
 * so that any Kafka client can ask for a charge.
 */
export function parseRequestsMessage(
  raw: unknown,
  fallback: { id: string; ts: number },
): RequestsMessage {
  const type = typeOf(raw) ?? "CHARGE_REQUEST";
  if (type === "CHARGE_REQUEST") {
    const r = raw as Record<string, unknown>;
    return object({ ...r, type, id: r.id ?? fallback.id, ts: r.ts ?? fallback.ts }, chargeRequest);
  }
  return bySpec(raw, { CANCEL_REQUEST: cancelRequest }, "requests_topic") as CancelRequest;
}

// ---------------------------------------------------------------------------
// Kafka: telemetry_topic (engines → Central, drivers)

const supplyFields = {
  ...envelope,
  cp_id: id,
  driver_id: id,
  session_id: id,
  consumo_kwh: kwh,
  importe_eur: eur,
};

const telemetry = { type: oneOf("TELEMETRY"), ...supplyFields, seq: count };
/** Every second during a supply: what has been delivered so far. */
export type Telemetry = Infer<typeof telemetry>;

const supplyEnd = {
  type: oneOf("SUPPLY_END"),
  ...supplyFields,
  reason: oneOf(...END_REASONS),
  /** When the engine ended it (its record's time); absent from older engines. */
  ended_at: optional(timestamp),
};
/**
 * The engine's own record of a supply's end: the meter is the truth. Sent again until
 * Central acknowledges it ({@link SupplyEndAck}), across restarts of either side.
 */
export type SupplyEnd = Infer<typeof supplyEnd>;

/** Anything valid on telemetry_topic. */
export type TelemetryMessage = Telemetry | SupplyEnd;

/** Parses a telemetry_topic message. */
export function parseTelemetryMessage(raw: unknown): TelemetryMessage {
  const specs = { TELEMETRY: telemetry, SUPPLY_END: supplyEnd };
  return bySpec(raw, specs, "telemetry_topic") as TelemetryMessage;
}

// ---------------------------------------------------------------------------
// Kafka: control_topic (Central → engines and drivers)

const startSupply = {
  type: oneOf("START_SUPPLY"),
  ...envelope,
  cp_id: id,
  driver_id: id,
  session_id: id,
  request_id: id,
  price_eur_kwh: price,
  /** Set for a supply asked for locally at the CP (SUMINISTRAR): it lasts this long. */
  duration_s: optional(num(1, 86_400)),
};
/** Central tells an engine to supply a driver (the spec's INICIAR_SUMINISTRO). */
export type StartSupply = Infer<typeof startSupply>;

const stopSupply = {
  type: oneOf("STOP_SUPPLY"),
  ...envelope,
  cp_id: id,
  session_id: id,
  reason: oneOf(...END_REASONS),
  /** The session's driver: an engine that never had the session answers for that driver. */
  driver_id: optional(id),
};
/**
 * Central tells an engine to end one session (driver gave up, fault) without stopping the CP.
 * Sent again while that session is unsettled: an engine that never supplied it answers with
 * a SUPPLY_END of reason NOT_SUPPLIED and never starts it afterwards.
 */
export type StopSupply = Infer<typeof stopSupply>;

const supplyEndAck = {
  type: oneOf("SUPPLY_END_ACK"),
  ...envelope,
  cp_id: id,
  session_id: id,
};
/** Central has stored an engine's SUPPLY_END: the engine may stop sending it. */
export type SupplyEndAck = Infer<typeof supplyEndAck>;

const command = {
  type: oneOf("PARAR", "REANUDAR"),
  ...envelope,
  cp_id: id,
};
/** The operator stops a CP (out of order) or resumes it. */
export type Command = Infer<typeof command>;

const authorized = {
  type: oneOf("AUTHORIZED"),
  ...envelope,
  driver_id: id,
  request_id: id,
  cp_id: id,
  session_id: id,
  price_eur_kwh: price,
};
/** Central tells a driver it may plug in. */
export type Authorized = Infer<typeof authorized>;

const denied = {
  type: oneOf("DENIED"),
  ...envelope,
  driver_id: id,
  request_id: id,
  cp_id: id,
  reason: oneOf(...DENY_REASONS),
  message: text(300),
};
/** Central tells a driver why it may not charge. */
export type Denied = Infer<typeof denied>;

const ticket = {
  type: oneOf("TICKET"),
  ...envelope,
  driver_id: id,
  request_id: id,
  session_id: id,
  cp_id: id,
  price_eur_kwh: price,
  consumo_kwh: kwh,
  importe_eur: eur,
  started_at: timestamp,
  ended_at: timestamp,
  status: oneOf("ENDED", "ABORTED"),
  reason: oneOf(...END_REASONS),
  /**
   * True when Central closed the session without the engine's word (it could not be heard
   * from): the figures are Central's last knowledge. The engine's record settles it later
   * with a final ticket (provisional absent or false) for the same session.
   */
  provisional: optional(bool),
};
/** The bill Central sends a driver; equal to the session row. */
export type Ticket = Infer<typeof ticket>;

/** Anything valid on control_topic. */
export type ControlMessage =
  | StartSupply
  | StopSupply
  | SupplyEndAck
  | Command
  | Authorized
  | Denied
  | Ticket;

const controlSpecs: Record<ControlMessage["type"], Spec> = {
  START_SUPPLY: startSupply,
  STOP_SUPPLY: stopSupply,
  SUPPLY_END_ACK: supplyEndAck,
  PARAR: command,
  REANUDAR: command,
  AUTHORIZED: authorized,
  DENIED: denied,
  TICKET: ticket,
};

/** Parses a control_topic message. */
export function parseControlMessage(raw: unknown): ControlMessage {
  return bySpec(raw, controlSpecs, "control_topic") as ControlMessage;
}

// ---------------------------------------------------------------------------
// TCP: monitor ↔ Central

const health = oneOf("OK", "KO");
/** Engine health as the monitor sees it. */
export type Health = "OK" | "KO";

const register = {
  type: oneOf("REGISTER"),
  cp_id: id,
  location: text(120, 1),
  price_eur_kwh: price,
  health: health,
  secret: optional(text(200)),
};
/** A monitor's first frame: who it is, where, its price and its engine's health. */
export type Register = Infer<typeof register>;

const healthReport = { type: oneOf("AVERIA", "OK") };
/** AVERIA when the engine fails a check; OK when it answers OK again. */
export type HealthReport = Infer<typeof healthReport>;

const beatInterval = optional(num(100, 600_000));
const heartbeat = { type: oneOf("HEARTBEAT"), interval_ms: beatInterval };
/**
 * Keeps the link alive. Monitors beat at the interval Central asks for (in WELCOME and in its
 * own HEARTBEATs, see {@link heartbeatInterval}); Central answers at most every
 * {@link HEARTBEAT_ANSWER_MS}, which is enough for a monitor's silence timeout and halves
 * the writes of a Central serving thousands of links.
 */
export type Heartbeat = Infer<typeof heartbeat>;

/** A monitor's HEARTBEAT frame, encoded once: every link sends these bytes every beat. */
export const HEARTBEAT_FRAME: Uint8Array = encodeFrame({ type: "HEARTBEAT" } satisfies Heartbeat);

const centralBeats = new Map<number, Uint8Array>();
/** Central's HEARTBEAT frame asking for `intervalMs`, encoded once per interval. */
export function centralHeartbeatFrame(intervalMs: number): Uint8Array {
  let frame = centralBeats.get(intervalMs);
  if (!frame) {
    frame = encodeFrame({ type: "HEARTBEAT", interval_ms: intervalMs } satisfies Heartbeat);
    centralBeats.set(intervalMs, frame);
  }
  return frame;
}

/** Central answers a link's heartbeats no more often than this. */
export const HEARTBEAT_ANSWER_MS = 1200;

/** Heartbeats a second one Central takes before it asks monitors to beat less often. */
export const HEARTBEATS_PER_S = 2500;

/**
 * The heartbeat interval Central asks of the monitors of a network of `cps` CPs: a second up
 * to {@link HEARTBEATS_PER_S} CPs, then longer, so that the beats of ten thousand CPs do not
 * take Central's (and a fleet simulator's) whole second. A silent link is found within three
 * intervals; a closed one (crash, kill, Ctrl+C) at once, whatever the size.
 */
export function heartbeatInterval(cps: number): number {
  return 1000 * Math.max(1, Math.ceil(cps / HEARTBEATS_PER_S));
}

/** How long a monitor beating every `intervalMs` waits for a word from Central. */
export function centralSilenceMs(intervalMs: number): number {
  return Math.max(5000, 3 * intervalMs + 2000);
}

const localCommand = { type: oneOf("PARAR", "ACTIVAR") };
/** Someone at the CP stops it (out of order) or puts it back in service. */
export type LocalCommand = Infer<typeof localCommand>;

const localSupply = { type: oneOf("SUMINISTRAR"), duration_s: num(1, 86_400) };
/** Someone at the CP starts a supply of a given length, for controlled tests. */
export type LocalSupply = Infer<typeof localSupply>;

/** Anything a monitor may send to Central. */
export type MonitorToCentral = Register | HealthReport | Heartbeat | LocalCommand | LocalSupply;

const monitorToCentralSpecs: Record<MonitorToCentral["type"], Spec> = {
  REGISTER: register,
  AVERIA: healthReport,
  OK: healthReport,
  HEARTBEAT: heartbeat,
  PARAR: localCommand,
  ACTIVAR: localCommand,
  SUMINISTRAR: localSupply,
};

/** Parses a frame a monitor sent to Central. */
export function parseMonitorToCentral(raw: unknown): MonitorToCentral {
  return bySpec(raw, monitorToCentralSpecs, "monitor link") as MonitorToCentral;
}

const welcome = {
  type: oneOf("WELCOME"),
  cp_id: id,
  known: bool,
  state: text(40),
  message: text(300),
  heartbeat_ms: beatInterval,
  /**
   * The CP's new key (shared/protocol/record_mac.ts), issued at every registration: its engine
   * signs its telemetry with it. Absent from Centrals older than the key.
   */
  cp_key: optional(cpKeyField),
};
/**
 * Central accepted a registration; `heartbeat_ms` is the interval it asks for. Carries a
 * secret: never logged.
 */
export type Welcome = Infer<typeof welcome>;

const refused = { type: oneOf("REFUSED"), reason: text(300) };
/** Central refused a registration; the link is closed after it. */
export type Refused = Infer<typeof refused>;

const protocolError = { type: oneOf("ERROR"), message: text(300) };
/** A frame was not understood. */
export type ProtocolError = Infer<typeof protocolError>;

const notice = { type: oneOf("NOTICE"), message: text(300) };
/** Central's answer to a local command. */
export type Notice = Infer<typeof notice>;

/** Anything Central may send to a monitor. */
export type CentralToMonitor = Welcome | Refused | ProtocolError | Heartbeat | Notice;

const centralToMonitorSpecs: Record<CentralToMonitor["type"], Spec> = {
  WELCOME: welcome,
  REFUSED: refused,
  ERROR: protocolError,
  HEARTBEAT: heartbeat,
  NOTICE: notice,
};

/** Parses a frame Central sent to a monitor. */
export function parseCentralToMonitor(raw: unknown): CentralToMonitor {
  return bySpec(raw, centralToMonitorSpecs, "central link") as CentralToMonitor;
}

// ---------------------------------------------------------------------------
// TCP: monitor ↔ engine

const healthCheck = {
  type: oneOf("HEALTH_CHECK"),
  cp_id: id,
  seq: count,
  pair: optional(text(128)),
  /** The key Central issued the CP at its last registration, covered by the proof. */
  cp_key: optional(cpKeyField),
};
/**
 * Every second the monitor asks its engine how it is, telling it its CP id and the CP's key,
 * with its pairing proof (shared/protocol/pairing.ts): without a valid one the engine answers
 * nothing and takes nothing from the check.
 */
export type HealthCheck = Infer<typeof healthCheck>;

const healthStatus = { type: oneOf("HEALTH"), seq: count, status: health };
/** The engine's answer to a {@link HealthCheck}. */
export type HealthStatus = Infer<typeof healthStatus>;

/** Parses a frame a monitor sent to its engine. */
export function parseMonitorToEngine(raw: unknown): HealthCheck {
  return bySpec(raw, { HEALTH_CHECK: healthCheck }, "engine port") as HealthCheck;
}

/** Anything an engine may send to its monitor: a health answer, or why it refuses a check. */
export type EngineToMonitor = HealthStatus | ProtocolError;

/** Parses a frame an engine sent to its monitor. */
export function parseEngineToMonitor(raw: unknown): EngineToMonitor {
  return bySpec(
    raw,
    { HEALTH: healthStatus, ERROR: protocolError },
    "engine link",
  ) as EngineToMonitor;
}

// ---------------------------------------------------------------------------

/** Adds a fresh id and the current time to a message body. */
export function stamp<const B extends { type: string }>(
  body: B,
  now: number = Date.now(),
): B & { id: string; ts: number } {
  return { ...body, id: crypto.randomUUID(), ts: now };
}

function typeOf(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ValidationError("expected a JSON object");
  }
  const t = (raw as Record<string, unknown>).type;
  if (t === undefined) return undefined;
  if (typeof t !== "string") throw new ValidationError('field "type": expected a text');
  return t;
}

function unknownType(type: string | undefined, where: string): ValidationError {
  const shown = type === undefined
    ? "no type"
    : `unknown type ${JSON.stringify(type.slice(0, 40))}`;
  return new ValidationError(`${shown} on ${where}`);
}

function bySpec(raw: unknown, specs: Record<string, Spec>, where: string): unknown {
  const type = typeOf(raw);
  if (type === undefined || !Object.hasOwn(specs, type)) throw unknownType(type, where);
  return object(raw, specs[type]);
}
