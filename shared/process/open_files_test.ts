import assert from "node:assert/strict";
import { openFilesLimit, parseOpenFilesLimit } from "./open_files.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

Deno.test("the soft limit of open files is read from /proc/self/limits", () => {
  assert.equal(parseOpenFilesLimit(LIMITS), 1024);
  assert.equal(parseOpenFilesLimit(LIMITS.replace("1024 ", "unlimited ")), undefined);
  assert.equal(parseOpenFilesLimit("nothing here"), undefined);
  if (Deno.build.os === "linux") assert.ok((openFilesLimit() ?? 0) > 0);
});
