/**
 * Issues 5 and 14: the driver on a real terminal (tmux), as a person sees it: the live charge
 * is one line redrawn in place with rising kWh, then the ticket; at the prompt, the question
 * comes back after each ticket and no countdown is left behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROGRAMS } from "../scripts/programs.ts";
import { E2E, eventually, ROOT, type Scenario, withScenario } from "./harness.ts";
import { missingTool } from "./missing_tool.ts";

/** Fails, never skips, where tmux is missing: the message says how to get it. */
async function requireTmux(): Promise<void> {
  try {
    await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" }).output();
  } catch {
    throw missingTool("tmux is not installed", "tmux");
  }
}

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args: ["-L", socket, ...args], stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** A driver running on a 120×24 terminal of its own, in the scenario's folder. */
interface Terminal {
  /** What the terminal shows now. */
  screen(): Promise<string>;
  /** Types `text` and Enter. */
  typeLine(text: string): Promise<void>;
  /** Waits until the screen matches `re` (and passes `also`, if given) and returns it. */
  waitScreen(re: RegExp, also?: (screen: string) => boolean): Promise<string>;
  /** Waits until the driver has exited and returns the screen it left. */
  waitExit(timeoutMs?: number): Promise<string>;
}

/** Runs `fn` with a driver started with `args` on a terminal; the terminal is gone after. */
async function withDriverOnTerminal(
  s: Scenario,
  args: string[],
  fn: (t: Terminal) => Promise<void>,
): Promise<void> {
  const socket = `ev-test-${crypto.randomUUID().slice(0, 8)}`;
  const p = PROGRAMS.driver;
  const command = [
    `cd '${s.dir}' &&`,
    `EV_TOPIC_PREFIX=${s.env.EV_TOPIC_PREFIX}`,
    `'${Deno.execPath()}' run --quiet ${p.flags.join(" ")} '${join(ROOT, p.entry)}'`,
    s.bootstrap,
    ...args,
  ].join(" ");
  await tmux(socket, "new-session", "-d", "-s", "drv", "-x", "120", "-y", "24", command);
  await tmux(socket, "set-option", "-t", "drv", "remain-on-exit", "on");
  const screen = () => tmux(socket, "capture-pane", "-t", "drv", "-p");
  let shown = "";
  try {
    await fn({
      screen,
      typeLine: async (text) => {
        if (text) await tmux(socket, "send-keys", "-t", "drv", "-l", text);
        await tmux(socket, "send-keys", "-t", "drv", "Enter");
      },
      waitScreen: (re, also = () => true) =>
        eventually(`the terminal to show ${re}${also.name ? ` ${also.name}` : ""}`, async () => {
          shown = await screen();
          return re.test(shown) && also(shown) && shown;
        }, 30_000),
      waitExit: async (timeoutMs = 30_000) => {
        await eventually("the driver to exit", async () => {
          const dead = await tmux(socket, "display-message", "-p", "-t", "drv", "#{pane_dead}");
          return dead.trim() === "1";
        }, timeoutMs);
        return shown = await screen();
      },
    });
  } catch (e) {
    console.error(`----- the driver's terminal -----\n${shown || await screen().catch(() => "")}`);
    throw e;
  } finally {
    await tmux(socket, "kill-server").catch(() => {});
  }
}

Deno.test({
  name: "driver on a terminal: the live charge line redraws in place, then the ticket shows",
  ...E2E,
  fn: () =>
    withScenario(async (s) => {
      await requireTmux();
      await s.network(["CP-01"], { engineArgs: ["--duration", "6"] });
      await withDriverOnTerminal(s, ["D1", "--cp", "CP-01"], async ({ screen, waitScreen }) => {
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
        const done = await waitScreen(/SUMMARY D1: /);
        assert.match(done, /AUTHORIZED at CP-01/);
        assert.match(done, /TICKET CP-01: ENDED \(COMPLETED\)/);
        assert.match(done, /SUMMARY D1: 1 charged/);
        assert.ok(!/⚡/.test(done), "no live line left behind after the ticket");
      });
    }),
});

/** The screen's last line with something on it. */
const lastLine = (screen: string) => screen.trimEnd().split("\n").at(-1) ?? "";
const QUESTION = /^CP id to charge at \(.*\): *$/;

Deno.test({
  name: "driver at the prompt on a terminal: it asks again after each ticket, no stale countdown",
  ...E2E,
  fn: () =>
    withScenario(async (s) => {
      await requireTmux();
      await s.network(["CP-01"], { engineArgs: ["--duration", "2"] });
      await withDriverOnTerminal(s, ["D1"], async ({ typeLine, waitScreen, waitExit }) => {
        // The question is the last line on screen: the driver waits for an answer.
        const asking = function askingAgain(screen: string) {
          return QUESTION.test(lastLine(screen));
        };
        await waitScreen(/CP id to charge at/, asking);
        await typeLine("CP-01");
        await waitScreen(/TICKET CP-01: ENDED[^]*ticket saved to /, asking);

        await typeLine("CP-01");
        // The 4 s pause counts down on the status line, and is gone when the request goes out.
        await waitScreen(/next request in \d s…/);
        let screen = await waitScreen(/AUTHORIZED at CP-01[^]*AUTHORIZED at CP-01/);
        assert.doesNotMatch(screen, /next request in/, "the countdown is over");
        screen = await waitScreen(/ticket saved to [^]*ticket saved to /, asking);
        assert.equal(screen.match(/TICKET CP-01: ENDED \(COMPLETED\)/g)?.length, 2, screen);

        await typeLine(""); // an empty line ends the prompt
        screen = await waitExit();
        assert.match(screen, /^SUMMARY D1: 2 charged, 0 aborted, 0 denied, 0 not answered/m);
        assert.doesNotMatch(screen, /next request in/, "no countdown left once the program ends");
        const lines = screen.split("\n");
        const lastQuestion = lines.findLastIndex((l) => /CP id to charge at/.test(l));
        const summary = lines.findIndex((l) => l.startsWith("SUMMARY"));
        assert.ok(lastQuestion < summary, "no question asked again under the summary");
      });
    }),
});
