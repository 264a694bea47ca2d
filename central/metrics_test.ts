import assert from "node:assert/strict";
import { Metrics, Samples } from "./metrics.ts";

Deno.test("percentiles of the recent samples, in a ring of fixed size", () => {
  const s = new Samples(100);
  for (let i = 1; i <= 100; i++) s.add(i);
  assert.deepEqual(s.summary(), { p50: 51, p99: 100, max: 100 });
  for (let i = 0; i < 100; i++) s.add(1); // the ring forgets the old ones
  assert.deepEqual(s.summary(), { p50: 1, p99: 1, max: 1 });
  s.reset();
  assert.deepEqual(s.summary(), { p50: 0, p99: 0, max: 0 });
});

Deno.test("metrics: one flat record of counters, percentiles and memory; samples reset", () => {
  const m = new Metrics();
  m.counts.records += 3;
  m.lag.add(7);
  m.dbWrite.add(2);
  const before = m.snapshot();
  assert.equal(before.records, 3);
  assert.equal(before.lag_p99_ms, 7);
  assert.equal(before.db_write_max_ms, 2);
  assert.ok(before.rss_bytes > 0 && before.heap_used_bytes > 0);
  m.resetSamples();
  const after = m.snapshot();
  assert.equal(after.lag_p99_ms, 0);
  assert.equal(after.records, 3, "counters are not samples");
});
