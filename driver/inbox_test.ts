import assert from "node:assert/strict";
import { Inbox } from "./inbox.ts";

Deno.test("a waiting flow gets the matching message; others are kept for later", async () => {
  const inbox = new Inbox<number>();
  const even = inbox.next((n) => n % 2 === 0, 1000);
  inbox.push(1);
  inbox.push(2);
  assert.equal(await even, 2);
  assert.equal(await inbox.next((n) => n === 1, 1000), 1, "kept while nobody waited");
});

Deno.test("next() gives up at its deadline or when aborted", async () => {
  const inbox = new Inbox<number>();
  assert.equal(await inbox.next(() => true, 10), undefined);
  const ac = new AbortController();
  const p = inbox.next(() => true, 10_000, ac.signal);
  ac.abort();
  assert.equal(await p, undefined);
});
