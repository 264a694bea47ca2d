/**
 * The monitor's link to Central: registers, beats every second, reports AVERIA/OK, and
 * reconnects with backoff whenever Central is missing or falls silent. On every
 * (re)registration it states the engine's current health, so Central never keeps a stale one.
 * Given several Central addresses (an active Central and its standbys), it tries them in turn
 * (see rotation.ts): only the active one listens, so the link finds whichever serves.
 *
 * @module
 */
import { type HostPort, hostPortText } from "../shared/net/host_port.ts";
import { FramedConn } from "../shared/net/framed_conn.ts";
import { idleTimer } from "../shared/net/idle_timer.ts";
import { errorText, logger } from "../shared/process/log.ts";
import {
  centralSilenceMs,
  type Health,
  HEARTBEAT_FRAME,
  type LocalCommand,
  type LocalSupply,
  parseCentralToMonitor,
  type Register,
} from "../shared/protocol/messages.ts";
import type { CpKey } from "../shared/protocol/record_mac.ts";
import { retry } from "../shared/process/retry.ts";
import { Rotation } from "./rotation.ts";

const log = logger("central-link");

/** What the link reports to its owner. */
export interface LinkEvents {
  /** Registered: Central's welcome text, and the address of the Central that sent it. */
  up(message: string, central: HostPort): void;
  /** Lost (and retrying). */
  down(why: string): void;
  /** Central refused this CP for good (e.g. another monitor holds the id). */
  refused(reason: string): void;
  /** Central answered a local command. */
  notice(message: string): void;
}

/** Settings of the link. */
export interface LinkOptions {
  heartbeatMs: number;
  /** Central silent this long means it is gone. */
  timeoutMs: number;
  /**
   * How late this process reads its sockets (see shared/io_lag.ts): a process that serves
   * thousands of links, like the fleet simulator, must not blame Central for its own backlog.
   */
  ioLag?: () => number;
  /** Talk TLS to Central, trusting this CA certificate (PEM). */
  tlsCa?: string;
}

/**
 * A beat a second; Central answers every other beat (HEARTBEAT_ANSWER_MS), and five seconds
 * leave it room for a busy moment without every monitor of a large network reconnecting at
 * once.
 */
export const LINK_DEFAULTS: LinkOptions = { heartbeatMs: 1000, timeoutMs: 5000 };

/** A monitor's link to Central. */
export class CentralLink {
  #link?: FramedConn;
  #registered = false;
  #everRegistered = false;
  readonly #stop = new AbortController();
  #health: Health;
  readonly #centrals: Rotation<HostPort>;
  #cpKey?: CpKey;

  /** `central`: one address, or several tried in turn. */
  constructor(
    central: HostPort | readonly HostPort[],
    readonly registration: Omit<Register, "type" | "health">,
    initialHealth: Health,
    readonly events: LinkEvents,
    readonly options: LinkOptions = LINK_DEFAULTS,
  ) {
    this.#health = initialHealth;
    this.#centrals = new Rotation(Array.isArray(central) ? central : [central as HostPort]);
  }

  /** The Central this link is on, or tries next. */
  get central(): HostPort {
    return this.#centrals.current;
  }

  /** Whether Central has accepted the registration on the current link. */
  get registered(): boolean {
    return this.#registered;
  }

  /** The key Central issued this CP at its last registration: its engine signs with it. */
  get cpKey(): CpKey | undefined {
    return this.#cpKey;
  }

  /** Runs until stopped or refused for good, reconnecting with backoff. */
  async run(): Promise<void> {
    // Each session is an attempt that fails when it ends, unless Central refused us for good.
    const session = async () => {
      const why = await this.#session();
      if (why !== null) throw new Error(why);
    };
    try {
      await retry(session, {
        delayMs: () => this.#centrals.failed(),
        signal: this.#stop.signal,
        onError: (e) => this.events.down(errorText(e)),
      });
    } catch (e) {
      if (!this.#stop.signal.aborted) throw e;
    }
  }

  /** Reports the engine's health; sent now when registered, else at the next registration. */
  setHealth(health: Health): void {
    if (health === this.#health) return;
    this.#health = health;
    if (this.#registered) void this.#link?.send({ type: health === "OK" ? "OK" : "AVERIA" });
  }

  /** Sends a local command (PARAR, ACTIVAR, SUMINISTRAR); false when not linked. */
  sendLocal(msg: LocalCommand | LocalSupply): boolean {
    if (!this.#registered || !this.#link) return false;
    void this.#link.send(msg);
    return true;
  }

  /**
   * A TCP link to `central`, or a TLS one whose handshake is done: a certificate Central
   * cannot prove is said here ("invalid peer certificate: UnknownIssuer"), not later as a
   * closed link.
   */
  async #connect(central: HostPort): Promise<Deno.Conn> {
    const ca = this.options.tlsCa;
    const { host: hostname, port } = central;
    if (ca === undefined) return await Deno.connect({ hostname, port });
    const conn = await Deno.connectTls({ hostname, port, caCerts: [ca] });
    try {
      await conn.handshake();
    } catch (e) {
      conn.close();
      throw new Error(`TLS: ${errorText(e)}`);
    }
    return conn;
  }

  // One connection's life: returns why it ended, or null when Central refused us.
  async #session(): Promise<string | null> {
    const central = this.central;
    let conn: Deno.Conn;
    try {
      conn = await this.#connect(central);
    } catch (e) {
      return `cannot reach Central at ${hostPortText(central)}: ${errorText(e)}`;
    }
    // Stopped while connecting: stop() had no link to close yet.
    if (this.#stop.signal.aborted) {
      conn.close();
      return "stopped";
    }
    const link = new FramedConn(conn);
    this.#link = link;
    let why = `Central closed the link (${hostPortText(central)})`;
    let timeoutMs = this.options.timeoutMs;
    const idle = idleTimer(() => {
      why = `Central silent for ${timeoutMs} ms (${hostPortText(central)})`;
      link.close();
    }, this.options.ioLag);
    idle.arm(timeoutMs);
    let beatMs = this.options.heartbeatMs;
    let beat = setInterval(() => void link.sendFrame(HEARTBEAT_FRAME), beatMs);
    // Central asks for a longer interval as its network grows (WELCOME, HEARTBEAT).
    const follow = (intervalMs: number | undefined) => {
      if (intervalMs === undefined || intervalMs === beatMs) return;
      beatMs = intervalMs;
      timeoutMs = Math.max(this.options.timeoutMs, centralSilenceMs(intervalMs));
      idle.arm(timeoutMs); // the next answer comes a whole new interval later
      clearInterval(beat);
      beat = setInterval(() => void link.sendFrame(HEARTBEAT_FRAME), beatMs);
    };
    try {
      await link.send({ type: "REGISTER", ...this.registration, health: this.#health });
      // Any frame, even one not understood, shows that Central is alive.
      const invalid = (error: string) => {
        idle.arm(timeoutMs);
        log.warn(`unexpected frame from Central: ${error}`);
      };
      for await (const msg of link.messages(parseCentralToMonitor, invalid)) {
        idle.arm(timeoutMs);
        if (msg.type === "HEARTBEAT") follow(msg.interval_ms);
        else if (msg.type === "WELCOME") {
          follow(msg.heartbeat_ms);
          // Kept across links lost: the engine signs with it until the next registration.
          if (msg.cp_key) this.#cpKey = msg.cp_key;
          this.#registered = true;
          this.#everRegistered = true;
          this.#centrals.succeeded();
          this.events.up(msg.message, central);
          // Health may have changed between REGISTER and WELCOME.
          await link.send({ type: this.#health === "OK" ? "OK" : "AVERIA" });
        } else if (msg.type === "REFUSED") {
          // After a reconnection the refusal is most likely our own previous link, which
          // Central still holds until its silence timeout: try again, with backoff. A first
          // registration that is refused (the id is taken, a wrong secret) is final.
          if (this.#everRegistered) return `Central refused the reconnection: ${msg.reason}`;
          this.events.refused(msg.reason);
          return null;
        } else if (msg.type === "ERROR") {
          log.warn(`Central says: ${msg.message}`);
        } else if (msg.type === "NOTICE") {
          this.events.notice(msg.message);
        }
      }
    } catch (e) {
      why = `link error: ${errorText(e)}`;
    } finally {
      clearInterval(beat);
      idle.clear();
      this.#registered = false;
      link.close();
    }
    return why;
  }

  /** Closes the link and stops reconnecting. */
  stop(): void {
    this.#stop.abort();
    this.#link?.close();
  }
}
