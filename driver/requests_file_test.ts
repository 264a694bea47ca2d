import assert from "node:assert/strict";
import { parseRequestsFile } from "./requests_file.ts";

Deno.test("one CP id per line; blanks and comments skipped; bad lines named by number", () => {
  assert.deepEqual(parseRequestsFile("CP-01\n\n# comment\nCP-02  # inline\r\n"), {
    ids: ["CP-01", "CP-02"],
    errors: [],
  });
  assert.deepEqual(parseRequestsFile("CP-01\nnot an id\n").errors, [
    { line: 2, message: '"not an id" is not a valid CP id' },
  ]);
});
