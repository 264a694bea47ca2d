import assert from "node:assert/strict";
import { join } from "node:path";
import { stamp } from "../shared/protocol/messages.ts";
import { topicNames } from "../shared/kafka/topics.ts";
import { CentralApp } from "./app.ts";
import { CentralDb } from "./db.ts";

type Row = { status: string; consumo_kwh: number };

Deno.test("telemetry progress is stored by saveProgress, the latest only, never after the end", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ev-app-" });
  const path = join(dir, "c.db");
  const db = new CentralDb(path);
  const app = new CentralApp(db, topicNames(), {
    requestTimeoutMs: 10_000,
    telemetryTimeoutMs: 10_000,
  });
  const now = Date.now();
  const cps = ["CP-01", "CP-02", "CP-03"];
  const sessions = new Map<string, string>();
  for (const cp_id of cps) {
    const reg = app.network.register(
      { type: "REGISTER", cp_id, location: "x", price_eur_kwh: 0.5, health: "OK" },
      now,
    );
    app.apply(reg.effects, now);
    const effects = app.network.request(
      stamp({ type: "CHARGE_REQUEST", driver_id: `D-${cp_id}`, cp_id_solicitado: cp_id }, now),
      now,
    );
    app.apply(effects, now);
    const start = effects.find((e) => e.kind === "open_session");
    assert.ok(start?.kind === "open_session");
    sessions.set(cp_id, start.session.session_id);
  }
  const telemetry = (cp_id: string, seq: number) =>
    app.apply(
      app.network.telemetry(
        stamp({
          type: "TELEMETRY",
          cp_id,
          driver_id: `D-${cp_id}`,
          session_id: sessions.get(cp_id)!,
          consumo_kwh: seq / 10,
          importe_eur: seq / 20,
          seq,
        }),
        now,
      ),
      now,
    );
  // A second connection reads what is stored, as a restarted Central would.
  const reader = new CentralDb(path);
  const stored = () =>
    new Map(
      reader.sessions({}).items.map((r) => [r.cp_id, r as unknown as Row]),
    );

  for (let seq = 1; seq <= 3; seq++) for (const cp of cps) telemetry(cp, seq);
  assert.deepEqual([...stored().values()].map((r) => r.consumo_kwh), [0, 0, 0], "not yet");
  await app.saveProgress();
  for (const cp of cps) assert.equal(stored().get(cp)!.consumo_kwh, 0.3, cp);

  // CP-02 reports more, then its supply ends: the end's totals stay, a later save can't undo it.
  telemetry("CP-02", 4);
  app.apply(
    app.network.supplyEnd(
      stamp({
        type: "SUPPLY_END",
        cp_id: "CP-02",
        driver_id: "D-CP-02",
        session_id: sessions.get("CP-02")!,
        consumo_kwh: 9,
        importe_eur: 4.5,
        reason: "COMPLETED",
      }),
      now,
    ),
    now,
  );
  telemetry("CP-01", 5);
  await app.saveProgress();
  const after = stored();
  assert.deepEqual(
    [after.get("CP-02")!.status, after.get("CP-02")!.consumo_kwh],
    ["ENDED", 9],
  );
  assert.equal(after.get("CP-01")!.consumo_kwh, 0.5);
  assert.equal(after.get("CP-03")!.consumo_kwh, 0.3);
  reader.close();
  db.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a request read again after a restart is not decided twice, denied or authorized", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ev-app-" });
  const path = join(dir, "c.db");
  const options = { requestTimeoutMs: 10_000, telemetryTimeoutMs: 10_000 };
  const now = Date.now();
  const request = (driver_id: string, cp_id_solicitado: string) =>
    stamp({ type: "CHARGE_REQUEST", driver_id, cp_id_solicitado }, now);
  const denied = request("D-1", "CP-99"); // no such CP
  const authorized = request("D-2", "CP-01");

  const first = new CentralApp(new CentralDb(path), topicNames(), options);
  const reg = first.network.register(
    { type: "REGISTER", cp_id: "CP-01", location: "x", price_eur_kwh: 0.5, health: "OK" },
    now,
  );
  first.apply(reg.effects, now);
  first.apply(first.network.request(denied, now), now);
  first.apply(first.network.request(authorized, now), now);
  first.db.close(); // a crash: nothing else is stored

  const db = new CentralDb(path);
  const second = new CentralApp(db, topicNames(), options);
  for (const again of [denied, authorized]) {
    assert.deepEqual(second.network.request(again, now + 1), [
      { kind: "log", level: "info", text: `duplicate request ${again.id} ignored` },
    ]);
  }
  // A new request with the same content is decided as usual.
  const fresh = second.network.request(request("D-1", "CP-99"), now + 1);
  assert.ok(fresh.some((e) => e.kind === "send" && e.message.type === "DENIED"));
  db.close();
  await Deno.remove(dir, { recursive: true });
});
