/**
 * Issue 5: the driver on a real terminal (tmux), as a person sees it: the live charge is one
 * line redrawn in place with rising kWh, then the ticket.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROGRAMS } from "../scripts/programs.ts";
import { E2E, eventually, ROOT, withScenario } from "./harness.ts";

const haveTmux = await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);
if (!haveTmux) console.error("terminal test skipped: tmux is not installed (apt-get install tmux)");

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args: ["-L", socket, ...args], stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "driver on a terminal: the live charge line redraws in place, then the ticket shows",
  ...E2E,
  ignore: !haveTmux,
  fn: () =>
    withScenario(async (s) => {
      await s.network(["CP-01"], { engineArgs: ["--duration", "6"] });
      const socket = `ev-test-${crypto.randomUUID().slice(0, 8)}`;
      const p = PROGRAMS.driver;
      const command = [
        `cd '${s.dir}' &&`,
        `EV_TOPIC_PREFIX=${s.env.EV_TOPIC_PREFIX}`,
        `'${Deno.execPath()}' run --quiet ${p.flags.join(" ")} '${join(ROOT, p.entry)}'`,
        `${s.bootstrap} D1 --cp CP-01`,
      ].join(" ");
      await tmux(socket, "new-session", "-d", "-s", "drv", "-x", "120", "-y", "24", command);
      await tmux(socket, "set-option", "-t", "drv", "remain-on-exit", "on");
      try {
        const screen = () => tmux(socket, "capture-pane", "-t", "drv", "-p");
        const live = /⚡ CP-01: (\d+\.\d{3}) kWh\s+\d+\.\d{3} €\s+00:\d\d/;
        const first = await eventually("the live charge line", async () => {
          const text = await screen();
          const m = live.exec(text);
          return m && Number(m[1]) > 0 ? { text, kwh: Number(m[1]) } : undefined;
        }, 30_000);
        const later = await eventually("the kWh to rise on the same line", async () => {
          const text = await screen();
          const m = live.exec(text);
          return m && Number(m[1]) > first.kwh ? text : undefined;
        });
        for (const text of [first.text, later]) {
          const lines = text.split("\n").filter((l) => /\d kWh/.test(l));
          assert.equal(lines.length, 1, `one live line, redrawn in place:\n${text}`);
        }
        // The summary is the driver's last line: the whole story is on screen by then.
        const done = await eventually("the summary", async () => {
          const text = await screen();
          return /SUMMARY D1: /.test(text) && text;
        }, 30_000);
        assert.match(done, /AUTHORIZED at CP-01/);
        assert.match(done, /TICKET CP-01: ENDED \(COMPLETED\)/);
        assert.match(done, /SUMMARY D1: 1 charged/);
        assert.ok(!/⚡/.test(done), "no live line left behind after the ticket");
      } finally {
        await tmux(socket, "kill-server").catch(() => {});
      }
    }),
});
