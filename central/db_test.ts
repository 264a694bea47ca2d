import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { CentralDb } from "./db.ts";

Deno.test("answered request ids: denied and authorized, the latest only, oldest first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ev-db-" });
  const path = join(dir, "c.db");
  const db = new CentralDb(path);
  const t0 = 1_800_000_000_000;
  db.apply([{
    kind: "save_cp",
    cp: {
      cp_id: "CP-01",
      location: "x",
      price_eur_kwh: 0.5,
      stopped: false,
      health: "OK",
      link: "up",
    },
  }], t0);
  const deny = (n: number) => db.apply([{ kind: "deny", request_id: `r${n}` }], t0 + n);
  for (const n of [1, 2, 4, 5]) deny(n);
  db.apply([{
    kind: "open_session",
    session: {
      session_id: "s3",
      request_id: "r3",
      cp_id: "CP-01",
      driver_id: "D",
      price_eur_kwh: 0.5,
      consumo_kwh: 0,
      importe_eur: 0,
      last_seq: -1,
      started_at: t0 + 3,
      last_seen_at: t0 + 3,
    },
  }], t0 + 3);

  assert.deepEqual(db.recentRequestIds(3), ["r3", "r4", "r5"]);
  db.close();
  // Denials beyond the latest three are gone from the file too: the table stays small.
  const raw = new DatabaseSync(path, { readOnly: true });
  const kept = raw.prepare("SELECT request_id FROM denials ORDER BY denied_at").all();
  assert.deepEqual(kept.map((r) => r.request_id), ["r2", "r4", "r5"]);
  raw.close();
  await Deno.remove(dir, { recursive: true });
});
