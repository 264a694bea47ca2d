/**
 * The monitor's side of the engine link: connects to the engine, sends HEALTH_CHECK every
 * second and turns the answers — or their absence — into OK/KO observations. A closed link
 * is a KO at once, not at the next check. Each check hands the engine the CP's key for its
 * telemetry's codes (from Central's last WELCOME), under the pairing proof.
 *
 * @module
 */
import { FramedConn } from "../shared/net/framed_conn.ts";
import { type HostPort, hostPortText } from "../shared/net/host_port.ts";
import { errorText, logger } from "../shared/process/log.ts";
import { type Health, parseEngineToMonitor } from "../shared/protocol/messages.ts";
import { pairingProof } from "../shared/protocol/pairing.ts";
import type { CpKey } from "../shared/protocol/record_mac.ts";

const log = logger("engine-link");

/** How long the engine has to answer a check. */
export const CHECK_TIMEOUT_MS = 400;

/** Checks an engine every `intervalMs`; calls `observe` with each outcome. */
export class EngineChecker {
  #link?: FramedConn;
  #seq = 0;
  #answered = -1;
  #timer?: ReturnType<typeof setInterval>;
  #stopped = false;
  #connecting = false;
  #lastError = "";
  #engineSaid = "";
  /** The pairing key of the current link. */
  #pairing?: CryptoKey;
  /** The last proof made, and the CP key it covers: one HMAC per new key, not per check. */
  #proof?: { cpKey: CpKey | undefined; proof: string };

  /**
   * `pairing`: the key of the engine's pairing secret (shared/protocol/pairing.ts), asked
   * again at each connection: an engine restarted with another secret is paired again.
   * `cpKey`: the key Central issued this CP at its last registration, if any yet.
   */
  constructor(
    readonly engine: HostPort,
    readonly cpId: string,
    readonly observe: (health: Health, detail: string) => void,
    readonly intervalMs = 1000,
    readonly pairing: () => Promise<CryptoKey | undefined> = () => Promise.resolve(undefined),
    readonly cpKey: () => CpKey | undefined = () => undefined,
  ) {}

  /** Starts checking. */
  start(): void {
    void this.#check();
    this.#timer = setInterval(() => void this.#check(), this.intervalMs);
  }

  /** Checks now, not at the next tick: e.g. to hand the engine a new key at once. */
  checkNow(): void {
    void this.#check();
  }

  async #check(): Promise<void> {
    if (this.#stopped) return;
    if (!this.#link) {
      if (this.#connecting) return;
      await this.#connect();
      if (!this.#link) return;
    }
    const link = this.#link;
    const cpKey = this.cpKey();
    const pair = await this.#proofFor(cpKey);
    if (link !== this.#link) return;
    const seq = ++this.#seq;
    const check = { type: "HEALTH_CHECK", cp_id: this.cpId, seq, pair, cp_key: cpKey };
    if (!(await link.send(check))) return;
    setTimeout(() => {
      if (this.#stopped || link !== this.#link || this.#answered >= seq) return;
      this.observe("KO", `engine did not answer within ${CHECK_TIMEOUT_MS} ms`);
    }, CHECK_TIMEOUT_MS);
  }

  async #proofFor(cpKey: CpKey | undefined): Promise<string | undefined> {
    const pairing = this.#pairing;
    if (!pairing) return undefined;
    const made = this.#proof;
    if (made && made.cpKey === cpKey) return made.proof;
    const proof = await pairingProof(pairing, this.cpId, cpKey);
    this.#proof = { cpKey, proof };
    return proof;
  }

  async #connect(): Promise<void> {
    this.#connecting = true;
    try {
      this.#pairing = await this.pairing();
      this.#proof = undefined;
      const conn = await Deno.connect({ hostname: this.engine.host, port: this.engine.port });
      if (this.#stopped) {
        conn.close();
        return;
      }
      this.#link = new FramedConn(conn);
      this.#lastError = "";
      // While the engine keeps refusing us, every reconnection is not news.
      if (!this.#engineSaid) {
        log.info(`connected to engine at ${hostPortText(this.engine)}`);
      }
      void this.#read(this.#link);
    } catch (e) {
      const error = errorText(e);
      if (error !== this.#lastError) log.warn(`engine unreachable: ${error}`);
      this.#lastError = error;
      this.observe("KO", "engine unreachable");
    } finally {
      this.#connecting = false;
    }
  }

  async #read(link: FramedConn): Promise<void> {
    // Said once, not every second: e.g. "this engine belongs to another CP".
    const said = (text: string) => {
      if (text !== this.#engineSaid) log.warn(`engine says: ${text}`);
      this.#engineSaid = text;
    };
    try {
      for await (const m of link.messages(parseEngineToMonitor, said)) {
        if (m.type === "ERROR") {
          said(m.message);
          continue;
        }
        this.#answered = Math.max(this.#answered, m.seq);
        this.observe(m.status, m.status === "OK" ? "engine OK" : "engine answers KO");
      }
    } catch (e) {
      log.warn(`engine link broken: ${errorText(e)}`);
    }
    link.close();
    if (this.#link === link) this.#link = undefined;
    if (!this.#stopped) this.observe("KO", "engine link closed");
  }

  /** Stops checking and closes the link. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#link?.close();
  }
}
