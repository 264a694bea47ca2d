import assert from "node:assert/strict";
import { hostPortText, splitHostPort } from "./host_port.ts";

Deno.test("host:port text splits and prints back the same, IPv6 in brackets", () => {
  for (const text of ["127.0.0.1:9092", "kafka.local:9092", "[::1]:7000"]) {
    const parts = splitHostPort(text)!;
    assert.equal(hostPortText({ host: parts.host, port: Number(parts.port) }), text);
  }
  assert.deepEqual(splitHostPort("[::1]:7000"), { host: "::1", port: "7000" });
  for (const bad of ["9092", "host:", ":9092", "a b:1", "host:port"]) {
    assert.equal(splitHostPort(bad), undefined, bad);
  }
});
