import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type ControlMessage, stamp, type Ticket } from "../shared/protocol/messages.ts";
import { CentralDb, type HistoryFilter, type Page } from "./db.ts";
import type { Effect } from "./rules.ts";

const T0 = 1_800_000_000_000;

// A database in a temporary directory, removed by `done`.
async function tempDb(): Promise<{ db: CentralDb; path: string; done: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "ev-db-" });
  const path = join(dir, "c.db");
  const db = new CentralDb(path);
  return {
    db,
    path,
    done: async () => {
      db.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function saveCp(cp_id: string): Effect {
  return {
    kind: "save_cp",
    cp: { cp_id, location: "x", price_eur_kwh: 0.5, stopped: false, health: "OK", link: "up" },
  };
}

// Session sN answers request rN.
function openSession(session_id: string, cp_id: string, driver_id: string, at: number): Effect {
  return {
    kind: "open_session",
    session: {
      session_id,
      request_id: session_id.replace("s", "r"),
      cp_id,
      driver_id,
      price_eur_kwh: 0.5,
      consumo_kwh: 0,
      importe_eur: 0,
      last_seq: -1,
      started_at: at,
      last_seen_at: at,
    },
  };
}

function closeSession(
  session_id: string,
  cp_id: string,
  driver_id: string,
  status: "ENDED" | "ABORTED",
  started_at: number,
): Effect {
  return {
    kind: "close_session",
    ticket: stamp({
      type: "TICKET",
      driver_id,
      request_id: session_id.replace("s", "r"),
      session_id,
      cp_id,
      price_eur_kwh: 0.5,
      consumo_kwh: 2,
      importe_eur: 1,
      started_at,
      ended_at: started_at + 100,
      status,
      reason: status === "ENDED" ? "COMPLETED" : "AVERIA",
    }, started_at + 100),
  };
}

function event(
  detail: string,
  at: number,
  kind: string,
  cp_id?: string,
  session_id?: string,
): Effect {
  return { kind: "event", event: { at, cp_id, session_id, kind, detail } };
}

function send(message: ControlMessage): Effect {
  return { kind: "send", message };
}

Deno.test("answered request ids: denied and authorized, the latest only, oldest first", async () => {
  const { db, path, done } = await tempDb();
  db.apply([saveCp("CP-01")], T0);
  for (const n of [1, 2, 4, 5]) db.apply([{ kind: "deny", request_id: `r${n}` }], T0 + n);
  db.apply([openSession("s3", "CP-01", "D", T0 + 3)], T0 + 3);

  assert.deepEqual(db.recentRequestIds(3), ["r3", "r4", "r5"]);
  db.close();
  // Denials beyond the latest three are gone from the file too: the table stays small.
  const raw = new DatabaseSync(path, { readOnly: true });
  const kept = raw.prepare("SELECT request_id FROM denials ORDER BY denied_at").all();
  assert.deepEqual(kept.map((r) => r.request_id), ["r2", "r4", "r5"]);
  raw.close();
  await done();
});

// s1..s4 started one ms apart, on two CPs by two drivers; s4 still running.
function sessionHistory(db: CentralDb): void {
  db.apply([saveCp("CP-01"), saveCp("CP-02")], T0);
  const plan = [
    ["s1", "CP-01", "D1", "ENDED"],
    ["s2", "CP-02", "D2", "ABORTED"],
    ["s3", "CP-01", "D2", "ENDED"],
    ["s4", "CP-02", "D1", undefined],
  ] as const;
  plan.forEach(([id, cp, driver, end], i) => {
    const at = T0 + i + 1;
    db.apply([openSession(id, cp, driver, at)], at);
    if (end) db.apply([closeSession(id, cp, driver, end, at)], at + 100);
  });
}

const sessionIds = (p: Page<{ session_id: string }>) => p.items.map((s) => s.session_id);

Deno.test("session history: newest first, in pages, with the total", async () => {
  const { db, done } = await tempDb();
  sessionHistory(db);
  const all = db.sessions();
  assert.deepEqual(sessionIds(all), ["s4", "s3", "s2", "s1"]);
  assert.deepEqual([all.total, all.limit, all.offset], [4, 100, 0]);
  const page = db.sessions({ limit: 2, offset: 1 });
  assert.deepEqual(sessionIds(page), ["s3", "s2"]);
  assert.deepEqual([page.total, page.limit, page.offset], [4, 2, 1]);
  assert.deepEqual(sessionIds(db.sessions({ offset: 10 })), []);
  assert.equal(db.sessions({ offset: 10 }).total, 4, "the total ignores the page");

  const s2 = db.sessions({ status: "ABORTED" }).items[0];
  assert.deepEqual(
    [s2.status, s2.end_reason, s2.consumo_kwh, s2.ended_at],
    ["ABORTED", "AVERIA", 2, T0 + 102],
  );
  await done();
});

Deno.test("session history: each filter, and filters combined", async () => {
  const { db, done } = await tempDb();
  sessionHistory(db);
  const cases: [HistoryFilter, string[]][] = [
    [{ cp: "CP-01" }, ["s3", "s1"]],
    [{ driver: "D1" }, ["s4", "s1"]],
    [{ status: "RUNNING" }, ["s4"]],
    [{ status: "ENDED" }, ["s3", "s1"]],
    // from is inclusive, to exclusive: s2 started at T0 + 2, s4 at T0 + 4.
    [{ from: T0 + 2, to: T0 + 4 }, ["s3", "s2"]],
    [{ cp: "CP-01", driver: "D2", status: "ENDED" }, ["s3"]],
    [{ cp: "CP-03" }, []],
  ];
  for (const [filter, expected] of cases) {
    const page = db.sessions(filter);
    assert.deepEqual(sessionIds(page), expected, JSON.stringify(filter));
    assert.equal(page.total, expected.length, JSON.stringify(filter));
  }
  assert.equal(db.sessions({ cp: "CP-01", limit: 1 }).total, 2);
  await done();
});

// e1..e4 one ms apart: on CPs, on sessions, and one of the whole network.
function eventHistory(db: CentralDb): void {
  db.apply([
    event("e1", T0 + 1, "session_start", "CP-01", "s1"),
    event("e2", T0 + 2, "averia", "CP-02", "s2"),
    event("e3", T0 + 3, "averia", "CP-01"),
    event("e4", T0 + 4, "central_start"),
  ], T0 + 4);
}

const details = (p: Page<{ detail: string }>) => p.items.map((e) => e.detail);

Deno.test("event history: newest first, each filter, in pages", async () => {
  const { db, done } = await tempDb();
  eventHistory(db);
  const all = db.events();
  assert.deepEqual(details(all), ["e4", "e3", "e2", "e1"]);
  assert.deepEqual([all.total, all.limit, all.offset], [4, 100, 0]);
  const page = db.events({ limit: 1, offset: 2 });
  assert.deepEqual([details(page), page.total], [["e2"], 4]);

  const cases: [HistoryFilter, string[]][] = [
    [{ cp: "CP-01" }, ["e3", "e1"]],
    [{ kind: "averia" }, ["e3", "e2"]],
    [{ session: "s1" }, ["e1"]],
    [{ from: T0 + 2, to: T0 + 4 }, ["e3", "e2"]],
    [{ cp: "CP-01", kind: "averia" }, ["e3"]],
  ];
  for (const [filter, expected] of cases) {
    const found = db.events(filter);
    assert.deepEqual(details(found), expected, JSON.stringify(filter));
    assert.equal(found.total, expected.length, JSON.stringify(filter));
  }
  await done();
});

const command = (cp_id: string, at: number) => stamp({ type: "PARAR", cp_id }, at);
const pendingIds = (db: CentralDb, limit?: number) =>
  db.pendingOutbox(limit).map((r) => r.message_id);

Deno.test("outbox: oldest first, each message once, gone only once sent", async () => {
  const { db, path, done } = await tempDb();
  const [m1, m2, m3] = [
    command("CP-01", T0 + 1),
    command("CP-02", T0 + 2),
    command("CP-03", T0 + 2),
  ];
  db.apply([send(m1)], T0 + 1);
  db.apply([send(m2), send(m3)], T0 + 2);
  // The same message written again (a batch replayed after a crash) is not sent twice.
  db.apply([send(m1)], T0 + 3);

  const rows = db.pendingOutbox();
  assert.deepEqual(rows.map((r) => r.message_id), [m1.id, m2.id, m3.id]);
  assert.deepEqual([rows[0].msg_key, JSON.parse(rows[0].body)], ["CP-01", m1]);
  assert.deepEqual(pendingIds(db, 2), [m1.id, m2.id]);

  db.sent([m2.id, "never-written"]);
  db.sent([]);
  assert.deepEqual(pendingIds(db), [m1.id, m3.id]);
  db.close();
  // What was not acknowledged is there for the next run.
  const reopened = new CentralDb(path);
  assert.deepEqual(pendingIds(reopened), [m1.id, m3.id]);
  reopened.sent([m1.id, m3.id]);
  assert.deepEqual(pendingIds(reopened), []);
  reopened.close();
  await done();
});

Deno.test("forget: the CP is gone from the next start, its secret too; its sessions and events stay", async () => {
  const { db, path, done } = await tempDb();
  try {
    db.apply([saveCp("CP-01"), saveCp("CP-07")], T0);
    db.apply([
      { kind: "enrol", cp: db.loadCps()[1] as never, secret_hash: "h" },
      openSession("s1", "CP-07", "D1", T0),
      closeSession("s1", "CP-07", "D1", "ENDED", T0),
      event("x", T0, "registered", "CP-07"),
    ], T0);
    assert.equal(db.secretHash("CP-07"), "h");
    db.apply([{ kind: "forget_cp", cp_id: "CP-07" }], T0 + 1);
    assert.deepEqual(db.loadCps().map((c) => c.cp_id), ["CP-01"]);
    assert.equal(db.secretHash("CP-07"), undefined, "a forgotten CP's secret no longer opens");
    assert.equal(db.sessions({ cp: "CP-07" }).total, 1, "the history stays");
    assert.equal(db.events({ cp: "CP-07" }).total, 1);
    db.close();
    const reopened = new CentralDb(path);
    assert.deepEqual(reopened.loadCps().map((c) => c.cp_id), ["CP-01"], "and after a restart");
    // It registers again: a new CP, with what it says now.
    reopened.apply([{
      kind: "save_cp",
      cp: {
        cp_id: "CP-07",
        location: "new",
        price_eur_kwh: 0.3,
        stopped: false,
        health: "OK",
        link: "up",
      },
    }], T0 + 2);
    const back = reopened.loadCps().find((c) => c.cp_id === "CP-07");
    assert.equal(back?.location, "new");
    reopened.close();
  } finally {
    await done();
  }
});

Deno.test("a database made before forget existed opens and gains the column", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ev-db-" });
  const path = join(dir, "old.db");
  try {
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE charging_points (
      cp_id TEXT PRIMARY KEY, location TEXT NOT NULL,
      price_eur_kwh REAL NOT NULL CHECK (price_eur_kwh >= 0),
      operator_stopped INTEGER NOT NULL DEFAULT 0 CHECK (operator_stopped IN (0, 1)),
      secret_hash TEXT, registered_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL);
      INSERT INTO charging_points VALUES ('CP-01', 'x', 0.5, 1, NULL, 1, 1);`);
    old.close();
    const db = new CentralDb(path);
    assert.deepEqual(db.loadCps().map((c) => [c.cp_id, c.stopped]), [["CP-01", true]]);
    db.apply([{ kind: "forget_cp", cp_id: "CP-01" }], T0);
    assert.deepEqual(db.loadCps(), []);
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A ticket for session sN of D1 on CP-01, as the rules make one.
function ticketOf(
  session_id: string,
  extra: Partial<Ticket> & Pick<Ticket, "status" | "reason" | "consumo_kwh" | "importe_eur">,
): Ticket {
  return stamp({
    type: "TICKET",
    driver_id: "D1",
    request_id: session_id.replace("s", "r"),
    session_id,
    cp_id: "CP-01",
    price_eur_kwh: 0.5,
    started_at: T0,
    ended_at: T0 + 100,
    ...extra,
  }, T0 + 100);
}

Deno.test("a provisional close is stored as such, loaded at start as unsettled, and settled by the engine's end", async () => {
  const { db, path, done } = await tempDb();
  db.apply([saveCp("CP-01"), openSession("s1", "CP-01", "D1", T0)], T0);
  db.apply([{
    kind: "close_session",
    ticket: ticketOf("s1", {
      status: "ABORTED",
      reason: "TELEMETRY_TIMEOUT",
      consumo_kwh: 0.111,
      importe_eur: 0.056,
      provisional: true,
    }),
  }], T0 + 100);
  const row = () => db.sessions().items[0];
  assert.deepEqual(
    [row().status, row().provisional, row().settled_at, row().end_reason],
    ["ABORTED", 1, null, "TELEMETRY_TIMEOUT"],
  );
  db.close();

  const again = new CentralDb(path);
  assert.deepEqual(again.loadUnsettledSessions(), [{
    session_id: "s1",
    request_id: "r1",
    cp_id: "CP-01",
    driver_id: "D1",
    price_eur_kwh: 0.5,
    started_at: T0,
    consumo_kwh: 0.111,
    importe_eur: 0.056,
    reason: "TELEMETRY_TIMEOUT",
    ended_at: T0 + 100,
  }]);
  const final = ticketOf("s1", {
    status: "ENDED",
    reason: "COMPLETED",
    consumo_kwh: 0.833,
    importe_eur: 0.417,
    ended_at: T0 + 5_000,
  });
  again.apply([{ kind: "settle_session", ticket: final }], T0 + 9_000);
  const settled = again.sessions().items[0];
  assert.deepEqual(
    [
      settled.status,
      settled.end_reason,
      settled.consumo_kwh,
      settled.importe_eur,
      settled.ended_at,
      settled.provisional,
      settled.settled_at,
    ],
    ["ENDED", "COMPLETED", 0.833, 0.417, T0 + 5_000, 0, T0 + 9_000],
  );
  assert.deepEqual(again.loadUnsettledSessions(), [], "settled: not loaded again");
  // A second settlement of the same session changes nothing: the first engine end is final.
  again.apply([{ kind: "settle_session", ticket: { ...final, consumo_kwh: 9 } }], T0 + 10_000);
  assert.equal(again.sessions().items[0].consumo_kwh, 0.833);
  again.close();
  await done();
});

Deno.test("a session closed by the engine's end is final at once: provisional 0, settled_at set", async () => {
  const { db, done } = await tempDb();
  db.apply([saveCp("CP-01"), openSession("s1", "CP-01", "D1", T0)], T0);
  db.apply([{
    kind: "close_session",
    ticket: ticketOf("s1", {
      status: "ENDED",
      reason: "COMPLETED",
      consumo_kwh: 1,
      importe_eur: 0.5,
    }),
  }], T0 + 200);
  const row = db.sessions().items[0];
  assert.deepEqual([row.provisional, row.settled_at], [0, T0 + 200]);
  assert.deepEqual(db.loadUnsettledSessions(), []);
  await done();
});

Deno.test("a database made before settlement opens and gains provisional and settled_at", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ev-db-" });
  const path = join(dir, "old.db");
  try {
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE sessions (
      session_id TEXT PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, cp_id TEXT NOT NULL,
      driver_id TEXT NOT NULL, price_eur_kwh REAL NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('RUNNING', 'ENDED', 'ABORTED')),
      consumo_kwh REAL NOT NULL DEFAULT 0, importe_eur REAL NOT NULL DEFAULT 0,
      last_seq INTEGER NOT NULL DEFAULT -1, started_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL, ended_at INTEGER, end_reason TEXT);
      INSERT INTO sessions VALUES ('s1', 'r1', 'CP-01', 'D1', 0.5, 'ENDED', 1, 0.5, 9, 1, 2, 2,
        'COMPLETED');`);
    old.close();
    const db = new CentralDb(path);
    const row = db.sessions().items[0];
    assert.deepEqual([row.session_id, row.provisional, row.settled_at], ["s1", 0, null]);
    assert.deepEqual(db.loadUnsettledSessions(), []);
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
