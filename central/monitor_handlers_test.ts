import assert from "node:assert/strict";
import type { Register } from "../shared/protocol/messages.ts";
import { CpKeyRing, type IssuedKeys } from "./cp_keys.ts";
import { EffectRunner } from "./effect_runner.ts";
import { Metrics } from "./metrics.ts";
import { enrol, type MonitorDeps, monitorHandlers } from "./monitor_handlers.ts";
import { ChargingNetwork, shownState } from "./rules.ts";

/** Handlers over real rules, with the database replaced by what the test looks at. */
function desk() {
  const stored: string[] = [];
  const storedKeys: IssuedKeys[] = [];
  const secrets = new Map<string, string>();
  const rules = new ChargingNetwork({ requestTimeoutMs: 10_000, telemetryTimeoutMs: 10_000 });
  const runner = new EffectRunner(
    {
      apply: (effects) => {
        for (const e of effects) {
          stored.push(e.kind === "event" ? `event ${e.event.kind}` : e.kind);
          if (e.kind === "enrol") secrets.set(e.cp.cp_id, e.secret_hash);
          if (e.kind === "cp_key") storedKeys.push(e.keys);
        }
      },
      inStorageOrder: (s) => s,
      saveProgress: () => {},
    },
    { flush: () => {} },
    new Metrics(),
  );
  const deps: MonitorDeps = {
    rules,
    runner,
    secrets: { secretHash: (cp) => secrets.get(cp) },
    keys: new CpKeyRing(),
    command: (type, target, origin) => {
      runner.apply(rules.command(type, target, Date.now(), origin));
      return true;
    },
  };
  return { deps, rules, stored, storedKeys };
}

const reg = (cp_id: string, secret?: string): Register => ({
  type: "REGISTER",
  cp_id,
  location: "Alicante",
  price_eur_kwh: 0.4,
  health: "OK",
  secret,
});

Deno.test("monitors: welcomed with their state, then welcomed back; a second one refused", async () => {
  const { deps } = desk();
  const h = monitorHandlers(deps);
  const first = await h.register(reg("CP-01"), "peer:1");
  assert.ok(first.ok);
  assert.equal(
    first.welcome.type === "WELCOME" && first.welcome.message,
    "Welcome, CP-01: enrolled at Alicante. You are ACTIVADO.",
  );
  const twice = await h.register(reg("CP-01"), "peer:2");
  assert.deepEqual(twice.ok, false);
  h.down("CP-01", "closed");
  const back = await h.register(reg("CP-01"), "peer:3");
  assert.ok(back.ok && back.welcome.type === "WELCOME");
  assert.equal(back.welcome.message, "Welcome back, CP-01. You are ACTIVADO.");
});

Deno.test("monitors with authentication: enrolled CP and right secret only; refusals recorded", async () => {
  const { deps, stored } = desk();
  const h = monitorHandlers(deps, true);
  await enrol(deps, "CP-02", "s3cret");
  assert.ok(stored.includes("enrol"), "the hash is stored through an effect");
  try {
    const unknown = await h.register(reg("CP-77", "x"), "10.0.0.1:4001");
    assert.deepEqual(unknown, { ok: false, reason: "CP CP-77 is not enrolled" });
    const wrong = await h.register(reg("CP-02", "nope"), "10.0.0.2:4002");
    assert.deepEqual(wrong, { ok: false, reason: "wrong secret for CP CP-02" });
    assert.equal(stored.filter((s) => s === "event register_refused").length, 2);
    const right = await h.register(reg("CP-02", "s3cret"), "10.0.0.3:4003");
    assert.ok(right.ok);
  } finally {
    h.close();
  }
});

Deno.test("monitors with authentication: a source that keeps failing is refused unchecked, one row a minute", async () => {
  const { deps, stored } = desk();
  const h = monitorHandlers(deps, true);
  await enrol(deps, "CP-02", "s3cret");
  try {
    const reasons: string[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await h.register(reg("CP-02", `guess-${i}`), `10.0.0.9:${5000 + i}`);
      if (!answer.ok) reasons.push(answer.reason);
    }
    assert.deepEqual(reasons.slice(0, 5), Array(5).fill("wrong secret for CP CP-02"));
    assert.match(reasons[5], /^too many failed registrations from 10\.0\.0\.9; try again in/);
    assert.equal(reasons.length, 8);
    const right = await h.register(reg("CP-02", "s3cret"), "10.0.0.9:5100");
    assert.equal(right.ok, false, "not even the right secret is checked from a locked source");
    assert.equal(stored.filter((s) => s === "event register_refused").length, 1);
    const other = await h.register(reg("CP-02", "s3cret"), "10.0.0.3:4003");
    assert.ok(other.ok, "another source gets in");
  } finally {
    h.close();
  }
});

Deno.test("commands typed at a CP: PARAR, ACTIVAR, and a supply of a given length", async () => {
  const { deps, rules } = desk();
  const h = monitorHandlers(deps);
  await h.register(reg("CP-03"), "peer:1");
  assert.equal(h.local("CP-03", { type: "PARAR" }), "PARAR done: CP-03 is PARADO");
  const stop = deps.runner.activity.recent().find((e) => e.kind === "parar");
  assert.equal(stop?.detail, "stopped at the CP, from its monitor", "the history says who");
  assert.match(
    h.local("CP-03", { type: "SUMINISTRAR", duration_s: 5 }),
    /^supply refused: .*stopped/,
  );
  assert.equal(h.local("CP-03", { type: "ACTIVAR" }), "REANUDAR done: CP-03 is ACTIVADO");
  assert.equal(
    h.local("CP-03", { type: "SUMINISTRAR", duration_s: 5 }),
    "supply of 5 s authorized",
  );
  assert.equal(shownState(rules.get("CP-03")!), "SUMINISTRANDO");
});

Deno.test("monitors: every registration brings a new key, stored before it is handed out", async () => {
  const { deps, storedKeys } = desk();
  const h = monitorHandlers(deps);
  const keyOf = (answer: Awaited<ReturnType<typeof h.register>>) =>
    answer.ok && answer.welcome.type === "WELCOME" ? answer.welcome.cp_key : undefined;
  const first = keyOf(await h.register(reg("CP-01"), "peer:1"));
  assert.equal(first?.id, 1);
  assert.deepEqual(storedKeys.at(-1), { cp_id: "CP-01", key: first, previous: undefined });
  h.down("CP-01", "closed");
  const second = keyOf(await h.register(reg("CP-01"), "peer:2"));
  assert.equal(second?.id, 2);
  assert.notEqual(second?.secret, first?.secret);
  assert.deepEqual(storedKeys.at(-1), { cp_id: "CP-01", key: second, previous: first });
  // A refused registration gets no key and changes none.
  const refused = await h.register(reg("CP-01"), "peer:3");
  assert.equal(refused.ok, false);
  assert.equal(storedKeys.length, 2);
});
