/**
 * Reads the campaign's evidence from disk: the sessions table (read-only), each engine's record
 * file, the drivers' ticket folders and the Centrals' logs. The checks are in checker.ts.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import {
  type CentralLog,
  centralWrites,
  type EngineRecord,
  parseRecord,
  type SessionRow,
  type TicketFile,
} from "./evidence.ts";

/** The columns of `table` in the database at `db`. */
function columns(db: DatabaseSync, table: string): Set<string> {
  const rows = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

/**
 * Every sessions row. provisional and settled_at are read when the schema has them (Central
 * settles sessions), and are absent otherwise.
 */
export function readSessions(dbPath: string): SessionRow[] {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const have = columns(db, "sessions");
    const extra = ["provisional", "settled_at"].filter((c) => have.has(c));
    const list = [
      "session_id",
      "cp_id",
      "driver_id",
      "price_eur_kwh",
      "status",
      "consumo_kwh",
      "importe_eur",
      "started_at",
      "ended_at",
      "end_reason",
      ...extra,
    ].join(", ");
    return db.prepare(`SELECT ${list} FROM sessions ORDER BY started_at`)
      .all() as unknown as SessionRow[];
  } finally {
    db.close();
  }
}

/** How many sessions are RUNNING or provisional now; undefined when the database is busy or absent. */
export function unsettledCount(dbPath: string): number | undefined {
  try {
    const db = new DatabaseSync(dbPath, { readOnly: true });
    try {
      const provisional = columns(db, "sessions").has("provisional") ? " OR provisional = 1" : "";
      const row = db.prepare(
        `SELECT count(*) AS n FROM sessions WHERE status = 'RUNNING'${provisional}`,
      )
        .get() as { n: number };
      return row.n;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

/** An engine's record file; a file never written is an empty record. */
export async function readRecord(cp_id: string, file: string): Promise<EngineRecord> {
  const text = await Deno.readTextFile(file).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  });
  return parseRecord(cp_id, file, text);
}

/** The ticket files in each driver's folder (`folders` maps driver id to folder). */
export async function readTickets(folders: Record<string, string>): Promise<TicketFile[]> {
  const found: TicketFile[] = [];
  for (const [driver_id, dir] of Object.entries(folders)) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    for (const entry of entries) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      const text = await Deno.readTextFile(join(dir, entry.name));
      try {
        const ticket = JSON.parse(text);
        if (typeof ticket !== "object" || ticket === null) throw new Error("not a JSON object");
        found.push({ driver_id, file: entry.name, ticket });
      } catch (e) {
        found.push({ driver_id, file: entry.name, error: (e as Error).message });
      }
    }
  }
  return found;
}

/** The writes of each run of a Central, from its logs (`logs`: instance name → log file). */
export async function readCentralLogs(logs: Record<string, string>): Promise<CentralLog[]> {
  return await Promise.all(
    Object.entries(logs).map(async ([instance, file]) =>
      centralWrites(instance, await Deno.readTextFile(file).catch(() => ""))
    ),
  );
}
