import assert from "node:assert/strict";
import {
  parseCli,
  parseHostPort,
  parseHostPortList,
  parseListenAddress,
  parseListenHost,
  parseNumber,
  parsePort,
  UsageError,
} from "./cli.ts";

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

Deno.test("a string option takes a negative number as its value, for its parser to judge", () => {
  const withShort = {
    ...spec,
    options: { ...spec.options, s: { type: "string" as const, help: "", short: "s" } },
  };
  for (const value of ["-1", "-0.5", "-.5", "-1e3", "-Infinity"]) {
    const long = parseCli(withShort, ["one", "--n", value]);
    assert.ok(long !== "help");
    assert.equal(long.options.n, value);
    const short = parseCli(withShort, ["one", "-s", value, "two"]);
    assert.ok(short !== "help");
    assert.equal(short.options.s, value);
    assert.deepEqual(short.positionals, ["one", "two"]);
  }
  const inline = parseCli(spec, ["one", "--n=-2"]);
  assert.ok(inline !== "help" && inline.options.n === "-2");
  // After "--" everything is positional, as before.
  const rest = parseCli(spec, ["--n", "3", "--", "-1"]);
  assert.ok(rest !== "help");
  assert.deepEqual(rest.positionals, ["-1"]);
  assert.equal(rest.options.n, "3");
});

Deno.test("boolean options, unknown options and dashed words keep their errors", () => {
  assert.throws(() => parseCli(spec, ["one", "--v", "-1"]), /Unknown option '-1'/);
  assert.throws(() => parseCli(spec, ["one", "--nope", "-1"]), /Unknown option '--nope'/);
  assert.throws(() => parseCli(spec, ["one", "--n", "-x"]), /argument is ambiguous/);
  assert.throws(() => parseCli(spec, ["one", "--n", "-1x"]), /argument is ambiguous/);
  assert.throws(() => parseCli(spec, ["one", "--n", "--v"]), /argument is ambiguous/);
});

Deno.test("listen addresses: an IP address, or a port with an optional IP address", () => {
  for (const ok of ["127.0.0.1", "0.0.0.0", "10.0.0.5", "::", "::1"]) {
    assert.equal(parseListenHost(ok, "--listen"), ok);
  }
  assert.equal(parseListenHost("[::1]", "--listen"), "::1");
  for (const bad of ["", "localhost", "300.1.1.1", "1.2.3", "127.0.0.1:80", "a b", "[::1"]) {
    assert.throws(
      () => parseListenHost(bad, "--listen"),
      (e: Error) =>
        e instanceof UsageError && e.message.startsWith("--listen must be an IP address") &&
        e.message.endsWith(`got "${bad}"`),
      bad,
    );
  }
  const all = "0.0.0.0";
  assert.deepEqual(parseListenAddress("8080", "--http", all), { host: all, port: 8080 });
  assert.deepEqual(parseListenAddress("127.0.0.1:8081", "--http", all), {
    host: "127.0.0.1",
    port: 8081,
  });
  assert.deepEqual(parseListenAddress("[::1]:8082", "--http", all), { host: "::1", port: 8082 });
  assert.throws(() => parseListenAddress("localhost:8080", "--http", all), /--http must be/);
  assert.throws(() => parseListenAddress("1.2.3.4:0", "--http", all), /--http port must be/);
  assert.throws(() => parseListenAddress("0", "--http", all), /--http port must be/);
  for (const bad of ["", ":8080", "1.2.3.4:", "x"]) {
    assert.throws(() => parseListenAddress(bad, "--http", all), /--http must be/, bad);
  }
});

Deno.test("a comma-separated list of host:port, in order, each checked", () => {
  assert.deepEqual(parseHostPortList("10.0.0.2:7000", "central"), [{
    host: "10.0.0.2",
    port: 7000,
  }]);
  assert.deepEqual(parseHostPortList("10.0.0.2:7000,[::1]:7001", "central"), [
    { host: "10.0.0.2", port: 7000 },
    { host: "::1", port: 7001 },
  ]);
  assert.throws(
    () => parseHostPortList("10.0.0.2:7000,", "central"),
    /central: empty address in "10\.0\.0\.2:7000,"/,
  );
  assert.throws(
    () => parseHostPortList("10.0.0.2:7000,pc3", "central"),
    /central must look like host:port, got "pc3"/,
  );
  assert.throws(
    () => parseHostPortList("10.0.0.2:7000,10.0.0.2:7000", "central"),
    /central: 10\.0\.0\.2:7000 is given twice/,
  );
});
