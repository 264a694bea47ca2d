import assert from "node:assert/strict";
import { retry } from "./retry.ts";

Deno.test("retry: tries until an attempt works, telling of each failure", async () => {
  const failures: number[] = [];
  let calls = 0;
  const value = await retry(() => {
    if (++calls < 3) return Promise.reject(new Error(`no ${calls}`));
    return Promise.resolve("yes");
  }, { delayMs: 1, onError: (_, n) => failures.push(n) });
  assert.equal(value, "yes");
  assert.deepEqual(failures, [1, 2]);
});

Deno.test("retry: gives up after its time with the last error", async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => Promise.reject(new Error(`failure ${++calls}`)), { delayMs: 10, timeoutMs: 60 }),
    /failure \d+/,
  );
  assert.ok(calls >= 2 && calls <= 8, `${calls} attempts`);
});

Deno.test("retry: an abort ends the wait at once and nothing is tried after it", async () => {
  const stop = new AbortController();
  let calls = 0;
  const running = retry(() => Promise.reject(new Error(`failure ${++calls}`)), {
    delayMs: 60_000,
    signal: stop.signal,
  });
  stop.abort(new Error("stopped"));
  await assert.rejects(running, /stopped/);
  assert.equal(calls, 1);
});

Deno.test("retry: the pause can come from a function, e.g. a backoff", async () => {
  const pauses = [5, 10];
  let calls = 0;
  await retry(() => {
    if (++calls <= 2) return Promise.reject(new Error("not yet"));
    return Promise.resolve();
  }, { delayMs: () => pauses.shift()! });
  assert.equal(calls, 3);
  assert.deepEqual(pauses, []);
});
