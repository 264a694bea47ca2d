/**
 * The engine's health port: its monitor connects, sends HEALTH_CHECK every second, and gets
 * OK — or KO while a fault is simulated. The first check tells the engine its CP id.
 *
 * @module
 */
import type { FramedConn } from "../shared/framed_conn.ts";
import { FrameError } from "../shared/framing.ts";
import { FramedServer, idleTimer, ProtocolErrors } from "../shared/framed_server.ts";
import { logger } from "../shared/log.ts";
import { type Health, parseMonitorToEngine } from "../shared/messages.ts";
import { ValidationError } from "../shared/validate.ts";

const log = logger("health");

/** A monitor checks every second; one silent this long is gone or hung. */
const IDLE_MS = 10_000;

/** What the server asks of the engine. */
export interface HealthHandlers {
  /** The engine's current health; undefined while it is hung (no answer at all). */
  health(): Health | undefined;
  /** A monitor said which CP this engine belongs to; false refuses a different id. */
  claim(cpId: string): boolean;
}

/** Starts the engine's health server on `port`. */
export function startHealthServer(
  port: number,
  handlers: HealthHandlers,
  hostname = "0.0.0.0",
): FramedServer {
  return new FramedServer(port, hostname, (link) => serve(link, handlers), log);
}

async function serve(link: FramedConn, handlers: HealthHandlers): Promise<void> {
  const errors = new ProtocolErrors(link, log);
  // Armed on whole valid checks only: garbage or dribbled bytes do not keep a link open.
  const idle = idleTimer(() => link.close());
  idle.arm(IDLE_MS);
  try {
    for await (const frame of link.frames()) {
      if (!frame.ok) {
        await errors.report(frame.error);
        continue;
      }
      let check;
      try {
        check = parseMonitorToEngine(frame.value);
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        await errors.report(e.message);
        continue;
      }
      if (!handlers.claim(check.cp_id)) {
        await errors.report(`this engine belongs to another CP, not ${check.cp_id}`);
        link.close();
        return;
      }
      idle.arm(IDLE_MS);
      const status = handlers.health();
      if (status) await link.send({ type: "HEALTH", seq: check.seq, status });
    }
  } catch (e) {
    if (!(e instanceof FrameError)) throw e;
    await errors.fatal(e);
  } finally {
    idle.clear();
  }
}
