import assert from "node:assert/strict";
import { parseCli, parseHostPort, parseNumber, parsePort, UsageError } from "./cli.ts";

const spec = {
  name: "X",
  summary: "test",
  positionals: [{ name: "a", help: "" }, { name: "b", help: "", optional: true }],
  options: {
    n: { type: "string" as const, help: "", default: "5" },
    v: { type: "boolean" as const, help: "" },
  },
};

Deno.test("positionals, defaults and --help", () => {
  assert.deepEqual(parseCli(spec, ["one"]), {
    positionals: ["one"],
    options: { n: "5", v: false },
  });
  assert.deepEqual(parseCli(spec, ["one", "two", "--n", "7", "--v"]), {
    positionals: ["one", "two"],
    options: { n: "7", v: true },
  });
  assert.equal(parseCli(spec, ["--help"]), "help");
});

Deno.test("wrong command lines are usage errors with one clear line", () => {
  assert.throws(() => parseCli(spec, []), /missing argument <a>/);
  assert.throws(() => parseCli(spec, ["1", "2", "3"]), /unexpected argument "3"/);
  assert.throws(() => parseCli(spec, ["1", "--nope"]), UsageError);
});

Deno.test("ports, addresses and numbers", () => {
  assert.equal(parsePort("9092"), 9092);
  for (const bad of ["0", "65536", "x", "-1", "80.5"]) {
    assert.throws(() => parsePort(bad), UsageError);
  }
  assert.deepEqual(parseHostPort("192.168.1.20:9092"), { host: "192.168.1.20", port: 9092 });
  assert.deepEqual(parseHostPort("[::1]:7000"), { host: "::1", port: 7000 });
  for (const bad of ["localhost", ":9092", "host:", "a b:1", "h:99999"]) {
    assert.throws(() => parseHostPort(bad), UsageError, bad);
  }
  assert.equal(parseNumber("0.35", "price", 0, 100), 0.35);
  assert.throws(() => parseNumber("", "price", 0, 100), /price must be a number/);
});
