import assert from "node:assert/strict";
import { join } from "node:path";
import { stamp } from "../shared/protocol/messages.ts";
import { topicNames } from "../shared/kafka/topics.ts";
import { CentralApp } from "./app.ts";
import { CentralDb } from "./db.ts";

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
  first.runner.apply(reg.effects, now);
  first.runner.apply(first.network.request(denied, now), now);
  first.runner.apply(first.network.request(authorized, now), now);
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
