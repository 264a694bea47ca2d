/**
 * Central's SQLite store (`node:sqlite`, built into Deno; jsr:@db/sqlite is out of reach).
 * The schema is `schema.sql`, embedded in the program, applied at every start.
 *
 * Effects from {@link ChargingNetwork} are written in one transaction per batch, so a crash
 * leaves either all of a batch or none of it.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import schema from "../schema.sql" with { type: "text" };
import type {
  ChargingPoint,
  Effect,
  NetworkEvent,
  RunningSession,
  UnsettledSession,
} from "./rules.ts";
import type { Ticket } from "../shared/protocol/messages.ts";
import type { IssuedKeys } from "./cp_keys.ts";

/** A stored CP, without its run-time facts. */
export type StoredCp = Omit<ChargingPoint, "link" | "session" | "unsettled">;

/** A sessions row. */
export interface SessionRow {
  session_id: string;
  request_id: string;
  cp_id: string;
  driver_id: string;
  price_eur_kwh: number;
  status: "RUNNING" | "ENDED" | "ABORTED";
  consumo_kwh: number;
  importe_eur: number;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
  end_reason: string | null;
  /** 1 while the figures are Central's own, waiting for the engine's end; else 0. */
  provisional: 0 | 1;
  /** When the engine's end made the row final; null while running or provisional. */
  settled_at: number | null;
}

/** A control message waiting for Kafka's acknowledgement. */
export interface OutboxRow {
  seq: number;
  message_id: string;
  msg_key: string;
  body: string;
}

/** An events row. */
export interface EventRow extends NetworkEvent {
  id: number;
}

/** Filters for the history queries; every value is bound, never spliced into SQL. */
export interface HistoryFilter {
  cp?: string;
  driver?: string;
  status?: string;
  kind?: string;
  session?: string;
  /** Inclusive lower bound, ms since the epoch. */
  from?: number;
  /** Exclusive upper bound, ms since the epoch. */
  to?: number;
  limit?: number;
  offset?: number;
}

/** One page of a query. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

type SqlValue = string | number;
interface Where {
  sql: string[];
  params: SqlValue[];
}

// Column names come from the fixed maps below, values only through placeholders.
function conditions(
  f: HistoryFilter,
  columns: Partial<Record<keyof HistoryFilter, string>>,
  timeColumn: string,
): Where {
  const sql: string[] = [];
  const params: SqlValue[] = [];
  for (const [key, column] of Object.entries(columns)) {
    const value = f[key as keyof HistoryFilter];
    if (value === undefined) continue;
    sql.push(`${column} = ?`);
    params.push(value);
  }
  if (f.from !== undefined) {
    sql.push(`${timeColumn} >= ?`);
    params.push(f.from);
  }
  if (f.to !== undefined) {
    sql.push(`${timeColumn} < ?`);
    params.push(f.to);
  }
  return { sql, params };
}

/** Central's database. */
export class CentralDb {
  readonly #db: DatabaseSync;
  readonly #saveCp: StatementSync;
  readonly #openSession: StatementSync;
  readonly #progress: StatementSync;
  /** Each running session's rowid: progress is written in table order, page after page. */
  readonly #rowOf = new Map<string, number>();
  readonly #pendingOutbox: StatementSync;
  readonly #closeSession: StatementSync;
  readonly #settleSession: StatementSync;
  readonly #addEvent: StatementSync;
  readonly #addOutbox: StatementSync;
  readonly #delOutbox: StatementSync;
  readonly #addDenial: StatementSync;
  readonly #enrol: StatementSync;
  readonly #forget: StatementSync;
  readonly #saveKeys: StatementSync;

  /** Opens (creating if needed) the database at `path` and applies the schema. */
  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
    );
    this.#db.exec(schema);
    this.#migrate();
    this.#saveCp = this.#db.prepare(
      `INSERT INTO charging_points (cp_id, location, price_eur_kwh, operator_stopped, registered_at, last_seen_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (cp_id) DO UPDATE SET location = excluded.location,
         price_eur_kwh = excluded.price_eur_kwh, operator_stopped = excluded.operator_stopped,
         last_seen_at = excluded.last_seen_at,
         registered_at = CASE WHEN charging_points.forgotten_at IS NULL
           THEN charging_points.registered_at ELSE excluded.registered_at END,
         forgotten_at = NULL`,
    );
    this.#openSession = this.#db.prepare(
      `INSERT INTO sessions (session_id, request_id, cp_id, driver_id, price_eur_kwh, status,
         started_at, updated_at) VALUES (?, ?, ?, ?, ?, 'RUNNING', ?, ?)`,
    );
    this.#progress = this.#db.prepare(
      `UPDATE sessions SET consumo_kwh = ?, importe_eur = ?, last_seq = ?, updated_at = ?
       WHERE rowid = ? AND session_id = ? AND status = 'RUNNING'`,
    );
    this.#closeSession = this.#db.prepare(
      `UPDATE sessions SET status = ?, consumo_kwh = ?, importe_eur = ?, ended_at = ?,
         updated_at = ?, end_reason = ?, provisional = ?, settled_at = ?
       WHERE session_id = ? AND status = 'RUNNING'`,
    );
    // Only a provisional row: the first engine end makes a session final, later ones are
    // repeats of it.
    this.#settleSession = this.#db.prepare(
      `UPDATE sessions SET status = ?, consumo_kwh = ?, importe_eur = ?, ended_at = ?,
         updated_at = ?, end_reason = ?, provisional = 0, settled_at = ?
       WHERE session_id = ? AND provisional = 1`,
    );
    this.#addEvent = this.#db.prepare(
      "INSERT INTO events (at, cp_id, session_id, kind, detail) VALUES (?, ?, ?, ?, ?)",
    );
    this.#addOutbox = this.#db.prepare(
      "INSERT OR IGNORE INTO outbox (message_id, msg_key, body, created_at) VALUES (?, ?, ?, ?)",
    );
    this.#delOutbox = this.#db.prepare("DELETE FROM outbox WHERE message_id = ?");
    this.#addDenial = this.#db.prepare(
      "INSERT OR IGNORE INTO denials (request_id, denied_at) VALUES (?, ?)",
    );
    // A CP enrolled before it ever registered is created with what the rules gave it.
    this.#enrol = this.#db.prepare(
      `INSERT INTO charging_points (cp_id, location, price_eur_kwh, secret_hash, registered_at,
         last_seen_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (cp_id) DO UPDATE SET secret_hash = excluded.secret_hash`,
    );
    // The row stays for the sessions that refer to it; the secret goes, so that a monitor
    // presenting it is refused until the operator enrols the id again.
    this.#forget = this.#db.prepare(
      `UPDATE charging_points SET forgotten_at = ?, secret_hash = NULL, operator_stopped = 0
       WHERE cp_id = ?`,
    );
    this.#saveKeys = this.#db.prepare(
      `INSERT OR REPLACE INTO cp_keys (cp_id, key_id, secret, prev_id, prev_secret, issued_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#pendingOutbox = this.#db.prepare(
      "SELECT seq, message_id, msg_key, body FROM outbox ORDER BY seq LIMIT ?",
    );
  }

  // schema.sql only creates what is missing: a column added since needs ALTER TABLE.
  #migrate(): void {
    const columns = this.#db.prepare("PRAGMA table_info(charging_points)").all() as {
      name: string;
    }[];
    if (!columns.some((c) => c.name === "forgotten_at")) {
      this.#db.exec("ALTER TABLE charging_points ADD COLUMN forgotten_at INTEGER");
    }
    const sessionColumns = this.#db.prepare("PRAGMA table_info(sessions)").all() as {
      name: string;
    }[];
    if (!sessionColumns.some((c) => c.name === "provisional")) {
      this.#db.exec(
        `ALTER TABLE sessions ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0
           CHECK (provisional IN (0, 1));
         ALTER TABLE sessions ADD COLUMN settled_at INTEGER;`,
      );
    }
    // Here, not in schema.sql: on an old database the column exists only after the ALTER.
    this.#db.exec(
      `CREATE INDEX IF NOT EXISTS sessions_provisional ON sessions (provisional)
         WHERE provisional = 1`,
    );
  }

  /** Control messages not yet acknowledged by Kafka, oldest first. */
  pendingOutbox(limit = 500): OutboxRow[] {
    return this.#pendingOutbox.all(limit) as unknown as OutboxRow[];
  }

  /** Forgets messages Kafka has acknowledged. */
  sent(messageIds: string[]): void {
    if (messageIds.length === 0) return;
    this.#transaction(() => {
      for (const id of messageIds) this.#delOutbox.run(id);
    });
  }

  /**
   * The latest `limit` request ids already answered (authorized or denied), oldest first,
   * so that a redelivered request is not decided twice. Older denials are forgotten here.
   */
  recentRequestIds(limit: number): string[] {
    // Older than the limit-th newest denial (ties in time stay).
    this.#db.prepare(
      `DELETE FROM denials WHERE denied_at < (SELECT denied_at FROM denials
         ORDER BY denied_at DESC LIMIT 1 OFFSET ?)`,
    ).run(Math.max(0, limit - 1));
    return (this.#db.prepare(
      `SELECT request_id FROM (SELECT request_id, started_at AS at FROM sessions
         UNION ALL SELECT request_id, denied_at FROM denials) ORDER BY at DESC LIMIT ?`,
    ).all(limit) as { request_id: string }[]).map((r) => r.request_id).reverse();
  }

  /** A CP's stored secret hash, if it has one. */
  secretHash(cpId: string): string | undefined {
    const row = this.#db.prepare(
      "SELECT secret_hash FROM charging_points WHERE cp_id = ? AND forgotten_at IS NULL",
    ).get(cpId) as { secret_hash: string | null } | undefined;
    return row?.secret_hash ?? undefined;
  }

  /** Every stored CP the operator has not forgotten. */
  /** Every CP's valid keys for the codes on its telemetry (central/cp_keys.ts). */
  loadCpKeys(): IssuedKeys[] {
    const rows = this.#db.prepare(
      "SELECT cp_id, key_id, secret, prev_id, prev_secret FROM cp_keys",
    ).all() as {
      cp_id: string;
      key_id: number;
      secret: string;
      prev_id: number | null;
      prev_secret: string | null;
    }[];
    return rows.map((r) => ({
      cp_id: r.cp_id,
      key: { id: r.key_id, secret: r.secret },
      previous: r.prev_id === null || r.prev_secret === null
        ? undefined
        : { id: r.prev_id, secret: r.prev_secret },
    }));
  }

  loadCps(): StoredCp[] {
    const rows = this.#db.prepare(
      `SELECT cp_id, location, price_eur_kwh, operator_stopped FROM charging_points
       WHERE forgotten_at IS NULL`,
    ).all() as {
      cp_id: string;
      location: string;
      price_eur_kwh: number;
      operator_stopped: number;
    }[];
    return rows.map((r) => ({
      cp_id: r.cp_id,
      location: r.location,
      price_eur_kwh: r.price_eur_kwh,
      stopped: r.operator_stopped === 1,
      health: "OK",
    }));
  }

  /** Sessions left RUNNING (by a previous run that stopped or crashed). */
  loadRunningSessions(now: number): RunningSession[] {
    const rows = this.#db.prepare(
      `SELECT rowid, session_id, request_id, cp_id, driver_id, price_eur_kwh, consumo_kwh,
         importe_eur, last_seq, started_at FROM sessions WHERE status = 'RUNNING'`,
    ).all() as unknown as (Omit<RunningSession, "last_seen_at"> & { rowid: number })[];
    // The watchdog counts from now: the supply gets a full timeout to prove it is alive.
    return rows.map(({ rowid, ...r }) => {
      this.#rowOf.set(r.session_id, rowid);
      return { ...r, last_seen_at: now };
    });
  }

  /** Sessions closed provisionally and not yet settled by their engine's end. */
  loadUnsettledSessions(): UnsettledSession[] {
    return this.#db.prepare(
      `SELECT session_id, request_id, cp_id, driver_id, price_eur_kwh, started_at, consumo_kwh,
         importe_eur, end_reason AS reason, ended_at FROM sessions WHERE provisional = 1
       ORDER BY started_at`,
    ).all().map((r) => ({ ...r })) as unknown as UnsettledSession[];
  }

  /**
   * Running sessions in the order of their rows, without those already closed: progress
   * written in that order, in chunks, dirties each page of the table once.
   */
  inStorageOrder(sessions: RunningSession[]): RunningSession[] {
    const rows: [number, RunningSession][] = [];
    for (const s of sessions) {
      const row = this.#rowOf.get(s.session_id);
      if (row !== undefined) rows.push([row, s]);
    }
    return rows.sort((a, b) => a[0] - b[0]).map(([, s]) => s);
  }

  /** Writes the latest telemetry totals of running sessions, in one transaction. */
  saveProgress(sessions: RunningSession[]): void {
    this.#transaction(() => sessions.forEach((s) => this.#writeProgress(s)));
  }

  #writeProgress(s: RunningSession): void {
    const row = this.#rowOf.get(s.session_id);
    if (row === undefined) return; // closed since
    this.#progress.run(s.consumo_kwh, s.importe_eur, s.last_seq, s.last_seen_at, row, s.session_id);
  }

  /**
   * Writes the persistent effects of one batch in a single transaction, with the control
   * messages they send into the outbox. Central keeps telemetry progress out of them and
   * writes it with {@link saveProgress}, in table order.
   */
  apply(effects: Effect[], now: number): void {
    if (!effects.some((e) => e.kind !== "log")) return;
    this.#transaction(() => {
      for (const e of effects) this.#applyOne(e, now);
    });
  }

  /**
   * Runs first inside every write transaction and throws to refuse it: the lease's fencing
   * check (central/lease.ts), so that a Central that lost its lease writes nothing more.
   */
  fence: () => void = () => {};

  /** The connection, for the lease, whose checks must share the writes' transactions. */
  get connection(): DatabaseSync {
    return this.#db;
  }

  // IMMEDIATE: the write lock is taken at BEGIN, so the fence's read and the writes after it
  // see one state of the database, whatever another process does in between.
  #transaction(fn: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.fence();
      fn();
      this.#db.exec("COMMIT");
    } catch (err) {
      // SQLite may have rolled back already (a full disk does): keep the first error.
      try {
        this.#db.exec("ROLLBACK");
      } catch { /* no transaction left */ }
      throw err;
    }
  }

  #applyOne(e: Effect, now: number): void {
    switch (e.kind) {
      case "save_cp": {
        const c = e.cp;
        this.#saveCp.run(c.cp_id, c.location, c.price_eur_kwh, c.stopped ? 1 : 0, now, now);
        return;
      }
      case "forget_cp":
        this.#forget.run(now, e.cp_id);
        return;
      case "enrol": {
        const c = e.cp;
        this.#enrol.run(c.cp_id, c.location, c.price_eur_kwh, e.secret_hash, now, now);
        return;
      }
      case "cp_key": {
        const { cp_id, key, previous } = e.keys;
        this.#saveKeys.run(
          cp_id,
          key.id,
          key.secret,
          previous?.id ?? null,
          previous?.secret ?? null,
          now,
        );
        return;
      }
      case "deny":
        this.#addDenial.run(e.request_id, now);
        return;
      case "open_session": {
        const s = e.session;
        const { lastInsertRowid } = this.#openSession.run(
          s.session_id,
          s.request_id,
          s.cp_id,
          s.driver_id,
          s.price_eur_kwh,
          s.started_at,
          now,
        );
        this.#rowOf.set(s.session_id, Number(lastInsertRowid));
        return;
      }
      case "progress":
        return this.#writeProgress(e.session);
      case "close_session": {
        const t: Ticket = e.ticket;
        this.#closeSession.run(
          t.status,
          t.consumo_kwh,
          t.importe_eur,
          t.ended_at,
          now,
          t.reason,
          t.provisional ? 1 : 0,
          t.provisional ? null : now,
          t.session_id,
        );
        this.#rowOf.delete(t.session_id);
        return;
      }
      case "settle_session": {
        const t = e.ticket;
        this.#settleSession.run(
          t.status,
          t.consumo_kwh,
          t.importe_eur,
          t.ended_at,
          now,
          t.reason,
          now,
          t.session_id,
        );
        return;
      }
      case "event": {
        const v = e.event;
        this.#addEvent.run(v.at, v.cp_id ?? null, v.session_id ?? null, v.kind, v.detail);
        return;
      }
      case "send": {
        const m = e.message;
        this.#addOutbox.run(m.id, m.cp_id, JSON.stringify(m), now);
        return;
      }
    }
  }

  /** Sessions matching `f`, newest first, one page of them, with the total count. */
  sessions(f: HistoryFilter = {}): Page<SessionRow> {
    const where = conditions(
      f,
      { cp: "cp_id", driver: "driver_id", status: "status" },
      "started_at",
    );
    return this.#page<SessionRow>(
      `SELECT session_id, request_id, cp_id, driver_id, price_eur_kwh, status, consumo_kwh,
         importe_eur, started_at, updated_at, ended_at, end_reason, provisional, settled_at
       FROM sessions`,
      where,
      "started_at DESC, session_id",
      f,
    );
  }

  /** Events matching `f`, newest first, one page of them, with the total count. */
  events(f: HistoryFilter = {}): Page<EventRow> {
    const where = conditions(f, { cp: "cp_id", kind: "kind", session: "session_id" }, "at");
    return this.#page<EventRow>(
      "SELECT id, at, cp_id, session_id, kind, detail FROM events",
      where,
      "id DESC",
      f,
    );
  }

  #page<T>(select: string, where: Where, order: string, f: HistoryFilter): Page<T> {
    const clause = where.sql.length ? ` WHERE ${where.sql.join(" AND ")}` : "";
    const limit = f.limit ?? 100;
    const offset = f.offset ?? 0;
    const items = this.#db.prepare(`${select}${clause} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...where.params, limit, offset) as unknown as T[];
    const count = this.#db.prepare(`SELECT count(*) AS n FROM (${select}${clause})`)
      .get(...where.params) as { n: number };
    return { items, total: count.n, limit, offset };
  }

  /** Closes the database. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
