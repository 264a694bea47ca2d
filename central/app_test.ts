import assert from "node:assert/strict";
import { latestProgressOnly } from "./app.ts";
import type { Effect, RunningSession } from "./network.ts";

const progress = (session_id: string, kwh: number): Effect => ({
  kind: "progress",
  session: { session_id, consumo_kwh: kwh } as RunningSession,
});

Deno.test("a batch writes only the last progress of each session, in order with the rest", () => {
  const log: Effect = { kind: "log", level: "info", text: "x" };
  const effects = [progress("a", 1), progress("b", 1), log, progress("a", 2)];
  assert.deepEqual(latestProgressOnly(effects), [progress("b", 1), log, progress("a", 2)]);
});
