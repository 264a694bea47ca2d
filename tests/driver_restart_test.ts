/**
 * Issue 15, I3 at the driver: a driver killed with kill -9 and started again with the same id
 * gets the tickets Central sent while it was dead (found by the chaos campaign, seed 2), shows
 * and saves them, and goes on with its own requests.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { E2E, eventually, query, ticketOf, withScenario } from "./harness.ts";

type Row = Record<string, unknown>;

Deno.test(
  "a driver killed mid-charge gets that charge's ticket when it is started again",
  E2E,
  () =>
    withScenario(async (s) => {
      const net = await s.network(["CP-01", "CP-02"], { engineArgs: ["--duration", "6"] });

      const first = await s.driver("D-R", ["CP-01"]);
      await first.waitFor(/^CHARGING CP-01: [\d.]+ kWh/, 60_000);
      first.signal("SIGKILL");
      await first.exit();

      // The charge goes on without the driver; the engine's end closes the row.
      const row = await eventually("the charge's row closed by the engine", () => {
        const r = query(
          net.db,
          (d) => d.prepare("SELECT * FROM sessions WHERE driver_id = 'D-R'").get(),
        ) as Row | undefined;
        return r?.status === "ENDED" && r.provisional === 0 ? r : undefined;
      }, 30_000);
      assert.equal(row.end_reason, "COMPLETED");

      const second = await s.driver("D-R", ["CP-02"]);
      const earlierLine = await second.waitFor(/^TICKET CP-01.*from an earlier run/, 60_000);
      const earlier = ticketOf(earlierLine);
      assert.equal(earlier.session_id, row.session_id);
      assert.equal(earlier.provisional ?? false, false, "the final ticket");
      assert.equal(earlier.consumo_kwh, row.consumo_kwh);
      assert.equal(earlier.importe_eur, row.importe_eur);
      assert.equal(earlier.status, "ENDED");
      assert.equal(earlier.reason, "COMPLETED");
      await second.waitFor(new RegExp(`^ticket saved to .*${row.session_id}\\.json`));
      const saved = JSON.parse(
        await Deno.readTextFile(join(s.dir, "tickets", `${row.session_id}.json`)),
      );
      assert.equal(saved.consumo_kwh, row.consumo_kwh, "saved as the sessions row says");
      assert.equal(saved.importe_eur, row.importe_eur);
      assert.equal(saved.provisional ?? false, false);

      const status = await second.exit(90_000);
      assert.equal(status.code, 0, s.report());
      const out = second.output;
      const nowLine = out.find((l) => /^TICKET CP-02/.test(l));
      assert.ok(nowLine, "then its own charge at CP-02");
      assert.equal(ticketOf(nowLine).reason, "COMPLETED");
      assert.equal(
        out.filter((l) => /^TICKET CP-01/.test(l)).length,
        1,
        "the earlier ticket is shown once",
      );
      const summary = out.find((l) => l.startsWith("SUMMARY D-R:"));
      assert.match(summary ?? "", /^SUMMARY D-R: 1 charged, 0 aborted/, "this run's charge only");
    }),
);

Deno.test(
  "two drivers of one id at once each get the answers to their own requests",
  E2E,
  () =>
    withScenario(async (s) => {
      await s.network(["CP-01", "CP-02"], { engineArgs: ["--duration", "3"] });
      const a = await s.driver("D-TWIN", ["CP-01"]);
      const b = await s.driver("D-TWIN", ["CP-02"]);
      const [ca, cb] = await Promise.all([a.exit(), b.exit()]);
      assert.equal(ca.code, 0, a.output.join("\n"));
      assert.equal(cb.code, 0, b.output.join("\n"));
      // One id charges at one CP at a time: one is authorized (and gets its ticket), the
      // other denied; each answer reaches the process that asked, whichever of the id's
      // group's partitions it landed in.
      const outcomes = [[a, "CP-01"], [b, "CP-02"]].map(([p, cp]) => {
        const lines = (p as typeof a).output;
        if (lines.some((l) => l.startsWith(`DENIED at ${cp}`))) return "denied";
        const ticket = lines.some((l) => new RegExp(`^TICKET ${cp}: ENDED`).test(l));
        if (lines.some((l) => l.startsWith(`AUTHORIZED at ${cp}`)) && ticket) return "charged";
        return `no answer for ${cp}`;
      });
      assert.deepEqual(outcomes.toSorted(), ["charged", "denied"]);
    }),
);
