import assert from "node:assert/strict";
import { join } from "node:path";
import { stamp } from "../shared/protocol/messages.ts";
import { CentralDb } from "./db.ts";
import { EffectRunner } from "./effect_runner.ts";
import { Metrics } from "./metrics.ts";
import { ChargingNetwork } from "./rules.ts";

type Row = { status: string; consumo_kwh: number };

Deno.test("telemetry progress is stored by saveProgress, the latest only, never after the end", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ev-app-" });
  const path = join(dir, "c.db");
  const db = new CentralDb(path);
  const rules = new ChargingNetwork({ requestTimeoutMs: 10_000, telemetryTimeoutMs: 10_000 });
  let flushes = 0;
  const runner = new EffectRunner(db, { flush: () => flushes++ }, new Metrics());
  const now = Date.now();
  const cps = ["CP-01", "CP-02", "CP-03"];
  const sessions = new Map<string, string>();
  for (const cp_id of cps) {
    const reg = rules.register(
      { type: "REGISTER", cp_id, location: "x", price_eur_kwh: 0.5, health: "OK" },
      now,
    );
    runner.apply(reg.effects, now);
    const effects = rules.request(
      stamp({ type: "CHARGE_REQUEST", driver_id: `D-${cp_id}`, cp_id_solicitado: cp_id }, now),
      now,
    );
    runner.apply(effects, now);
    const start = effects.find((e) => e.kind === "open_session");
    assert.ok(start?.kind === "open_session");
    sessions.set(cp_id, start.session.session_id);
  }
  const telemetry = (cp_id: string, seq: number) =>
    runner.apply(
      rules.telemetry(
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

  assert.equal(flushes, 3, "each authorization asked the outbox to send");
  for (let seq = 1; seq <= 3; seq++) for (const cp of cps) telemetry(cp, seq);
  assert.deepEqual([...stored().values()].map((r) => r.consumo_kwh), [0, 0, 0], "not yet");
  await runner.saveProgress();
  for (const cp of cps) assert.equal(stored().get(cp)!.consumo_kwh, 0.3, cp);

  // CP-02 reports more, then its supply ends: the end's totals stay, a later save can't undo it.
  telemetry("CP-02", 4);
  runner.apply(
    rules.supplyEnd(
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
  await runner.saveProgress();
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

/** A store that logs what happens, and can be made to refuse writes. */
function loggingStore(trace: string[]) {
  return {
    refuse: false,
    apply(effects: { kind: string }[]) {
      if (this.refuse) throw new Error("disk full");
      trace.push(`stored ${effects.map((e) => e.kind).join(",")}`);
    },
    inStorageOrder: <T>(sessions: T[]) => sessions,
    saveProgress() {},
  };
}

Deno.test("effects: stored before the outbox is asked to send, then the views are told", () => {
  const trace: string[] = [];
  const rules = new ChargingNetwork({ requestTimeoutMs: 10_000, telemetryTimeoutMs: 10_000 });
  const runner = new EffectRunner(
    loggingStore(trace),
    { flush: () => trace.push("flush") },
    new Metrics(),
  );
  runner.subscribe(() => trace.push("views"));
  const now = Date.now();
  runner.apply(
    rules.register(
      { type: "REGISTER", cp_id: "CP-01", location: "x", price_eur_kwh: 0.5, health: "OK" },
      now,
    ).effects,
    now,
  );
  trace.length = 0;
  runner.apply(rules.command("PARAR", "CP-01", now, "console"), now);
  assert.deepEqual(trace, ["stored send,save_cp,event", "flush", "views"]);
  assert.deepEqual(runner.activity.recent().map((e) => e.kind), ["registered", "parar"]);
});

Deno.test("effects: a write the database refuses stops Central, naming the unstored CPs", () => {
  const trace: string[] = [];
  const store = loggingStore(trace);
  const rules = new ChargingNetwork({ requestTimeoutMs: 10_000, telemetryTimeoutMs: 10_000 });
  const runner = new EffectRunner(store, { flush: () => trace.push("flush") }, new Metrics());
  let fatal: { why: string; unstored: ReadonlySet<string> } | undefined;
  runner.onFatal = (why, unstored) => (fatal = { why, unstored });
  store.refuse = true;
  const now = Date.now();
  const reg = rules.register(
    { type: "REGISTER", cp_id: "CP-07", location: "x", price_eur_kwh: 0.5, health: "OK" },
    now,
  );
  assert.throws(() => runner.apply(reg.effects, now), /disk full/);
  assert.match(fatal!.why, /cannot write the database: disk full/);
  assert.deepEqual([...fatal!.unstored], ["CP-07"]);
  assert.deepEqual(trace, [], "nothing sent about a change that is not stored");
  store.refuse = false;
  assert.throws(() => runner.apply(reg.effects, now), /Central is stopping/);
});
