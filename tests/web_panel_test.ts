/**
 * Issue 3: the web panel in a real headless browser (Debian's chromium, driven by
 * playwright-core): a CP turns SUMINISTRANDO with rising kWh, PARAR turns it PARADO.
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { E2E, OPERATOR_TOKEN, withScenario } from "./harness.ts";
import { missingTool } from "./missing_tool.ts";

const CHROMIUM = Deno.env.get("EV_CHROMIUM") ?? "/usr/bin/chromium";

/** Fails, never skips, where the browser is missing: the message says how to get it. */
async function requireChromium(): Promise<void> {
  if (!await Deno.stat(CHROMIUM).then(() => true, () => false)) {
    throw missingTool(`no browser at ${CHROMIUM}`, "chromium");
  }
}

Deno.test({
  name: "web panel: live SUMINISTRANDO with rising kWh, then PARAR from the page turns it PARADO",
  ...E2E,
  fn: async () => {
    await requireChromium();
    await withScenario(async (s) => {
      const net = await s.network(["CP-01", "CP-02"], { engineArgs: ["--duration", "60"] });
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      try {
        const page = await browser.newPage();
        await page.goto(`${net.api}/`);
        await page.waitForSelector("#conn.up");
        const state = (cp: string) => page.locator(`tr[data-cp="${cp}"] .state`);
        assert.equal(await state("CP-01").textContent(), "ACTIVADO");
        assert.ok(!(await page.isVisible('button[data-command="PARAR"]')), "locked at first");
        await page.fill("#token", "wrong-token");
        await page.click("#login button");
        await page.waitForSelector("#loginmsg:has-text('valid operator token')");
        assert.ok(!(await page.isVisible('button[data-command="PARAR"]')));
        await page.fill("#token", OPERATOR_TOKEN);
        await page.click("#login button");
        await page.waitForSelector('tr[data-cp="CP-01"] button[data-command="PARAR"]', {
          state: "visible",
        });

        const driver = await s.driver("D1", ["CP-01"]);
        await page.waitForSelector('tr[data-cp="CP-01"][data-state="SUMINISTRANDO"]');
        const kwh = () => page.locator('tr[data-cp="CP-01"] .kwh').textContent().then(Number);
        const first = await kwh();
        // Page-side expressions are strings: they run in the browser, not in Deno.
        await page.waitForFunction(
          `Number(document.querySelector('tr[data-cp="CP-01"] .kwh')?.textContent) > ${first}`,
        );
        assert.match(await page.locator('tr[data-cp="CP-01"]').textContent() ?? "", /D1/);

        await page.click('tr[data-cp="CP-01"] button[data-command="PARAR"]');
        await page.waitForSelector('tr[data-cp="CP-01"][data-state="PARADO"]');
        assert.equal(await state("CP-02").textContent(), "ACTIVADO", "only CP-01 stopped");
        await driver.waitFor(/^TICKET CP-01: ABORTED \(PARAR\)/);
        await page.waitForFunction(
          `document.querySelector("#events").textContent.includes("parar")`,
        );
      } finally {
        await browser.close();
      }
    });
  },
});
