import assert from "node:assert/strict";
import { truncateVisible } from "./status_line.ts";

Deno.test("truncateVisible counts only visible characters and keeps colors", () => {
  assert.equal(truncateVisible("abcdef", 3), "abc\x1b[0m");
  assert.equal(truncateVisible("abc", 10), "abc");
  assert.equal(truncateVisible("\x1b[32mgreen\x1b[39m!", 4), "\x1b[32mgree\x1b[0m");
  assert.equal(truncateVisible("⚡ CP", 3), "⚡ C\x1b[0m");
});
