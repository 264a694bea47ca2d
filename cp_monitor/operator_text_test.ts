import assert from "node:assert/strict";
import { paint } from "../shared/term/colors.ts";
import { healthChangeLine, monitorStatusText, type MonitorView } from "./operator_text.ts";

const view: MonitorView = {
  cpId: "CP-01",
  detail: "not checked yet",
  registered: false,
  linkText: "connecting to Central…",
  central: "10.0.0.2:7000",
  lastCheck: "",
  tty: false,
};

Deno.test("monitor status: the link and the engine's health", () => {
  assert.equal(
    monitorStatusText(view),
    `CP-01: ${paint("gray", "connecting to Central…")}, ${
      paint("red", "engine KO (not checked yet)")
    }`,
  );
  assert.equal(
    monitorStatusText({ ...view, health: "OK", registered: true, lastCheck: "10:00:00" }),
    `CP-01: ${paint("green", "linked to Central at 10.0.0.2:7000")}, ${
      paint("green", "engine OK")
    }`,
  );
  assert.equal(
    monitorStatusText({ ...view, health: "KO", detail: "engine answers KO" }),
    `CP-01: ${paint("gray", "connecting to Central…")}, ${
      paint("red", "engine KO (engine answers KO)")
    }`,
  );
});

Deno.test("monitor status: a terminal also shows the last check's time and the keys", () => {
  const text = monitorStatusText({ ...view, health: "OK", lastCheck: "10:00:00", tty: true });
  assert.equal(
    text,
    `CP-01: ${paint("gray", "connecting to Central…")}, ${paint("green", "engine OK")}` +
      ", checked 10:00:00   [p]arar [a]ctivar [s]uministrar [q]uit",
  );
});

Deno.test("monitor log: a fault is always news, a first OK is not", () => {
  assert.deepEqual(healthChangeLine(undefined, "KO", "engine answers KO", true), {
    level: "warn",
    text: "AVERIA: engine answers KO (sent to Central)",
  });
  assert.deepEqual(healthChangeLine("OK", "KO", "engine unreachable", false), {
    level: "warn",
    text: "AVERIA: engine unreachable",
  });
  assert.equal(healthChangeLine(undefined, "OK", "engine OK", true), undefined);
  assert.deepEqual(healthChangeLine("KO", "OK", "engine OK", true), {
    level: "info",
    text: "engine recovered: OK sent to Central",
  });
  assert.deepEqual(healthChangeLine("KO", "OK", "engine OK", false), {
    level: "info",
    text: "engine recovered",
  });
});
