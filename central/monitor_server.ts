/**
 * Central's TCP server for monitors (EV_CP_M): registration, AVERIA/OK reports and
 * heartbeats over length-prefixed JSON frames. A link that closes, breaks its framing or
 * falls silent longer than the heartbeat timeout is reported as down.
 *
 * @module
 */
import type { FramedConn } from "../shared/net/framed_conn.ts";
import { FrameError } from "../shared/protocol/framing.ts";
import { FramedServer } from "../shared/net/framed_server.ts";
import { idleTimer } from "../shared/net/idle_timer.ts";
import { ProtocolErrors } from "../shared/net/protocol_errors.ts";
import { logger } from "../shared/process/log.ts";
import {
  centralHeartbeatFrame,
  type CentralToMonitor,
  type Health,
  HEARTBEAT_ANSWER_MS,
  type LocalCommand,
  type LocalSupply,
  parseMonitorToCentral,
  type Register,
} from "../shared/protocol/messages.ts";

const log = logger("monitors");

/** What the server asks of Central's core. */
export interface MonitorHandlers {
  /**
   * A link from `peer` opened: whether it may stay until it registers (else it is closed
   * before anything is read). Each admitted link is {@link settled} once.
   */
  admit(peer: string): boolean;
  /** An admitted link registered, or closed before it did. */
  settled(peer: string): void;
  /** A monitor wants to register; returns the answer to send it. */
  register(
    reg: Register,
    peer: string,
  ): RegisterAnswer | Promise<RegisterAnswer>;
  /** A registered monitor reports its engine's health. */
  health(cpId: string, health: Health): void;
  /** A registered monitor's link is gone. */
  down(cpId: string, why: string): void;
  /** The heartbeat interval to ask of monitors now (it grows with the network). */
  heartbeatMs(): number;
  /** Someone at the CP asks to stop it, resume it or start a test supply; returns the answer. */
  local(cpId: string, msg: LocalCommand | LocalSupply): string;
}

/** Central's answer to a registration. */
export type RegisterAnswer = { ok: true; welcome: CentralToMonitor } | {
  ok: false;
  reason: string;
};

/** Timeouts of the monitor links. */
export interface MonitorServerOptions {
  /**
   * A link silent for this long is considered lost, when monitors beat every second; it
   * grows in proportion when Central asks for longer intervals.
   */
  heartbeatTimeoutMs: number;
  /** A new connection must register within this time. */
  registerTimeoutMs: number;
  /** Monitor links served at once (default: no limit). */
  maxLinks?: number;
  /** Serve the monitors over TLS with this certificate chain and key (PEM). */
  tls?: { cert: string; key: string };
}

/** Starts Central's monitor server on `hostname:port` (main.ts chooses the address). */
export function startMonitorServer(
  hostname: string,
  port: number,
  handlers: MonitorHandlers,
  options: MonitorServerOptions,
): FramedServer {
  return new FramedServer(
    port,
    hostname,
    (link, ioLag) => serve(link, handlers, options, ioLag),
    log,
    { measureIoLag: true, maxLinks: options.maxLinks, tls: options.tls },
  );
}

async function serve(
  link: FramedConn,
  handlers: MonitorHandlers,
  options: MonitorServerOptions,
  ioLag: () => number,
): Promise<void> {
  // A stranger's links wait for nothing: beyond its share they are closed unread.
  if (!handlers.admit(link.peer)) return;
  let unsettled = true;
  const settle = () => {
    if (unsettled) handlers.settled(link.peer);
    unsettled = false;
  };
  let cpId: string | undefined;
  let why = "link closed";
  let answeredAt = 0;
  let beatMs = 1000;
  const silenceMs = () => (options.heartbeatTimeoutMs * beatMs) / 1000;
  const errors = new ProtocolErrors(link, log);
  // Armed on whole frames only: a peer that dribbles bytes never completes one in time.
  const idle = idleTimer(() => {
    why = cpId
      ? `no heartbeat for ${silenceMs()} ms`
      : `did not register within ${options.registerTimeoutMs} ms`;
    link.close();
  }, ioLag);
  const arm = () => idle.arm(cpId ? silenceMs() : options.registerTimeoutMs);
  arm();
  try {
    const invalid = async (error: string) => {
      if (!(await errors.report(error, cpId))) why = "too many protocol errors";
    };
    for await (const msg of link.messages(parseMonitorToCentral, invalid)) {
      if (msg.type === "REGISTER") {
        if (cpId) {
          await errors.report("already registered on this link", cpId);
          continue;
        }
        const answer = await handlers.register(msg, link.peer);
        if (!answer.ok) {
          await link.send({ type: "REFUSED", reason: answer.reason });
          why = "refused";
          return;
        }
        cpId = msg.cp_id;
        settle();
        beatMs = handlers.heartbeatMs();
        arm();
        await link.send({ ...answer.welcome, heartbeat_ms: beatMs });
        continue;
      }
      if (!cpId) {
        // Only a registration counts as a sign of life from an unregistered peer.
        await errors.report(`${msg.type} before REGISTER`);
        continue;
      }
      arm();
      if (msg.type === "HEARTBEAT") {
        const now = Date.now();
        if (now - answeredAt < HEARTBEAT_ANSWER_MS) continue;
        answeredAt = now;
        // The interval asked for grows with the network; the monitor follows the answer.
        const asked = handlers.heartbeatMs();
        if (asked > beatMs) {
          beatMs = asked; // a slower beat must not be mistaken for silence
          arm();
        }
        await link.sendFrame(centralHeartbeatFrame(asked));
      } else if (msg.type === "AVERIA" || msg.type === "OK") {
        handlers.health(cpId, msg.type === "AVERIA" ? "KO" : "OK");
      } else {
        const local = msg as LocalCommand | LocalSupply;
        await link.send({ type: "NOTICE", message: handlers.local(cpId, local) });
      }
    }
  } catch (e) {
    if (!(e instanceof FrameError)) throw e;
    why = `protocol error: ${e.message}`;
    await errors.fatal(e, cpId);
  } finally {
    settle();
    idle.clear();
    if (cpId) handlers.down(cpId, why);
  }
}
