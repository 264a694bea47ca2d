/**
 * The engine's health port: its monitor connects, sends HEALTH_CHECK every second, and gets
 * OK — or KO while a fault is simulated. The first check tells the engine its CP id.
 *
 * @module
 */
import type { FramedConn } from "../shared/net/framed_conn.ts";
import { FrameError } from "../shared/protocol/framing.ts";
import { FramedServer } from "../shared/net/framed_server.ts";
import { idleTimer } from "../shared/net/idle_timer.ts";
import { ProtocolErrors } from "../shared/net/protocol_errors.ts";
import { logger } from "../shared/process/log.ts";
import { type Health, parseMonitorToEngine } from "../shared/protocol/messages.ts";
import type { CpKey } from "../shared/protocol/record_mac.ts";

const log = logger("health");

/** A monitor checks every second; one silent this long is gone or hung. */
const IDLE_MS = 10_000;

/** What the server asks of the engine. */
export interface HealthHandlers {
  /** The engine's current health; undefined while it is hung (no answer at all). */
  health(): Health | undefined;
  /**
   * A monitor said which CP this engine belongs to, with its pairing proof and the CP's key:
   * why the check is refused (no valid proof, or another CP than the one served), or
   * undefined.
   */
  claim(
    cpId: string,
    proof: string | undefined,
    key: CpKey | undefined,
  ): Promise<string | undefined>;
}

/** Starts the engine's health server on `hostname:port` (main.ts chooses the address). */
export function startHealthServer(
  hostname: string,
  port: number,
  handlers: HealthHandlers,
): FramedServer {
  return new FramedServer(port, hostname, (link) => serve(link, handlers), log);
}

async function serve(link: FramedConn, handlers: HealthHandlers): Promise<void> {
  const errors = new ProtocolErrors(link, log);
  // Armed on whole valid checks only: garbage or dribbled bytes do not keep a link open.
  const idle = idleTimer(() => link.close());
  idle.arm(IDLE_MS);
  try {
    const invalid = async (error: string) => {
      await errors.report(error);
    };
    for await (const check of link.messages(parseMonitorToEngine, invalid)) {
      const refused = await handlers.claim(check.cp_id, check.pair, check.cp_key);
      if (refused) {
        await errors.report(refused);
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
