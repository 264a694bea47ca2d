/**
 * What Central does with its monitors' frames: registration (with CP authentication when it
 * is on), AVERIA / OK reports, link loss, the heartbeat interval, and the commands typed at
 * a CP. Each becomes a rule call whose effects go to the {@link EffectRunner}; the socket
 * work is the monitor server's.
 *
 * @module
 */
import { logger } from "../shared/process/log.ts";
import { heartbeatInterval, type LocalCommand } from "../shared/protocol/messages.ts";
import type { CpKeyRing } from "./cp_keys.ts";
import type { CentralDb } from "./db.ts";
import type { EffectRunner } from "./effect_runner.ts";
import type { MonitorHandlers } from "./monitor_server.ts";
import { RegistrationGuard, sourceOf } from "./registration_guard.ts";
import { type ChargingNetwork, type CommandOrigin, shownState } from "./rules.ts";
import { SecretVerifier } from "./secret_verifier.ts";
import { hashSecret } from "./secrets.ts";

const log = logger("central");

/** What the handlers need besides the rules and the runner. */
export interface MonitorDeps {
  rules: ChargingNetwork;
  runner: EffectRunner;
  /** Where CP secrets are stored (hashed). */
  secrets: Pick<CentralDb, "secretHash">;
  /** Issues each registered CP a new key for its telemetry's codes. */
  keys: Pick<CpKeyRing, "issue">;
  /** The operator's PARAR / REANUDAR, also typed at a CP. */
  command(type: "PARAR" | "REANUDAR", target: string, origin: CommandOrigin): boolean;
}

/**
 * Enrols a CP with its secret, stored hashed; with authentication on, its monitor must
 * present it. The secret itself is never logged or stored.
 */
export async function enrol(deps: MonitorDeps, cpId: string, secret: string): Promise<void> {
  const hash = await hashSecret(secret);
  const now = Date.now();
  deps.runner.apply(deps.rules.enrol(cpId, hash, now), now);
}

/** The answer to a monitor while the secret checks' queue is full: not the monitor's fault. */
export const BUSY = "Central is busy checking secrets; try again";

// With authentication on, a monitor must name an enrolled CP and present its secret.
async function refusal(
  deps: MonitorDeps,
  verifier: SecretVerifier,
  cpId: string,
  secret: string | undefined,
): Promise<string | undefined> {
  const hash = deps.secrets.secretHash(cpId);
  if (!hash) return `CP ${cpId} is not enrolled`;
  if (secret === undefined) return `wrong secret for CP ${cpId}`;
  const check = verifier.verify(secret, hash);
  if (check === undefined) return BUSY;
  return (await check) ? undefined : `wrong secret for CP ${cpId}`;
}

/** The monitor server's handlers, and what main.ts runs beside them. */
export interface CentralMonitorHandlers extends MonitorHandlers {
  /** Records the counts of refusal windows that ended (call it every few seconds). */
  flushRefusals(): void;
  /** Stops the secret checks' worker. */
  close(): void;
}

/**
 * Handlers for the monitor server; `requireSecret` turns CP authentication on. `guard` limits
 * unregistered links and failed attempts per source, and records refusals in bounded form;
 * secrets are checked off the event loop.
 */
export function monitorHandlers(
  deps: MonitorDeps,
  requireSecret = false,
  guard = new RegistrationGuard(),
): CentralMonitorHandlers {
  const { rules, runner } = deps;
  const verifier = new SecretVerifier();
  const record = (records: { detail: string; cpId?: string }[], now: number) => {
    for (const r of records) runner.apply(rules.refuse(r.cpId ?? "", r.detail, now), now);
  };
  const refuse = (peer: string, cpId: string, reason: string) => {
    const now = Date.now();
    if (reason !== BUSY) record(guard.failed(sourceOf(peer), now, reason, cpId), now);
    log.debug(`registration of ${cpId} from ${peer} refused: ${reason}`);
    return { ok: false as const, reason };
  };
  return {
    admit: (peer) => guard.admit(sourceOf(peer)),
    settled: (peer) => guard.settled(sourceOf(peer)),
    register: async (reg, peer) => {
      log.debug(`registration of ${reg.cp_id} from ${peer}`);
      const locked = guard.locked(sourceOf(peer), Date.now());
      if (locked) return refuse(peer, reg.cp_id, locked);
      if (requireSecret) {
        const reason = await refusal(deps, verifier, reg.cp_id, reg.secret);
        if (reason) return refuse(peer, reg.cp_id, reason);
      }
      const now = Date.now();
      const result = rules.register(reg, now);
      if (!result.ok) {
        // The rules' own event is replaced by the guard's bounded record.
        runner.apply(result.effects.filter((e) => e.kind !== "event"), now);
        log.warn(`registration from ${peer} refused: ${result.reason}`);
        return refuse(peer, reg.cp_id, result.reason);
      }
      // Rotated at every registration, stored before it leaves in WELCOME: a key taken from
      // an earlier link (or a Central's database) serves one registration more at most.
      const keys = deps.keys.issue(reg.cp_id);
      runner.apply([...result.effects, { kind: "cp_key", keys }], now);
      const state = shownState(result.cp);
      const message = result.known
        ? `Welcome back, ${reg.cp_id}. You are ${state}.`
        : `Welcome, ${reg.cp_id}: enrolled at ${reg.location}. You are ${state}.`;
      return {
        ok: true,
        welcome: {
          type: "WELCOME",
          cp_id: reg.cp_id,
          known: result.known,
          state,
          message,
          cp_key: keys.key,
        },
      };
    },
    flushRefusals: () => {
      const now = Date.now();
      record(guard.expire(now), now);
    },
    close: () => verifier.close(),
    health: (cpId, health) => runner.apply(rules.reportHealth(cpId, health, Date.now())),
    down: (cpId, why) => runner.apply(rules.linkDown(cpId, Date.now(), why)),
    heartbeatMs: () => heartbeatInterval(rules.size),
    local: (cpId, msg) => {
      if (msg.type === "SUMINISTRAR") {
        const now = Date.now();
        const outcome = rules.supplyLocally(cpId, msg.duration_s, now);
        runner.apply(outcome.effects, now);
        return outcome.refused
          ? `supply refused: ${outcome.refused}`
          : `supply of ${msg.duration_s} s authorized`;
      }
      const command = localCommands[msg.type];
      deps.command(command, cpId, "monitor");
      return `${command} done: ${cpId} is ${shownState(rules.get(cpId)!)}`;
    },
  };
}

/** A command typed at the CP, as the operator's command it stands for. */
const localCommands: Record<LocalCommand["type"], "PARAR" | "REANUDAR"> = {
  PARAR: "PARAR",
  ACTIVAR: "REANUDAR",
};
