import assert from "node:assert/strict";
import { listenErrorText } from "./listen_error.ts";

Deno.test("why a listener could not start, in the operator's words", () => {
  assert.equal(
    listenErrorText(new Deno.errors.AddrInUse("os error 98"), "0.0.0.0"),
    "port already in use",
  );
  assert.equal(
    listenErrorText(new Deno.errors.AddrNotAvailable("os error 99"), "10.9.9.9"),
    "10.9.9.9 is not an address of this machine",
  );
  assert.equal(listenErrorText(new Deno.errors.PermissionDenied("no"), "127.0.0.1"), "no");
});
