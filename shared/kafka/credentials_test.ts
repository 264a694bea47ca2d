import assert from "node:assert/strict";
import { UsageError } from "../process/cli.ts";
import { type CredentialSources, credentialsText, kafkaCredentials } from "./credentials.ts";

const sources = (
  vars: Record<string, string>,
  files: Record<string, string> = {},
): CredentialSources => ({
  env: (name) => vars[name],
  readFile: (path) => {
    if (path in files) return files[path];
    throw new Deno.errors.NotFound(path);
  },
});

Deno.test("no user and no password: no credentials (a plaintext broker)", () => {
  assert.equal(kafkaCredentials({}, sources({})), undefined);
});

Deno.test("credentials from the environment, SCRAM-SHA-256 by default", () => {
  assert.deepEqual(
    kafkaCredentials({}, sources({ EV_KAFKA_USER: "driver", EV_KAFKA_PASSWORD: "s3cret" })),
    { mechanism: "scram-sha-256", username: "driver", password: "s3cret" },
  );
  const c = kafkaCredentials(
    {},
    sources({ EV_KAFKA_USER: "u", EV_KAFKA_PASSWORD: "p", EV_KAFKA_MECHANISM: "SCRAM-SHA-512" }),
  );
  assert.equal(c?.mechanism, "scram-sha-512");
});

Deno.test("options win over the environment; the file's final newline is not the password", () => {
  const c = kafkaCredentials(
    { "kafka-user": "engine", "kafka-password-file": "/pw" },
    sources({ EV_KAFKA_USER: "driver", EV_KAFKA_PASSWORD: "env" }, { "/pw": "from-file\n" }),
  );
  assert.deepEqual(c, { mechanism: "scram-sha-256", username: "engine", password: "from-file" });
  const crlf = kafkaCredentials(
    { "kafka-password-file": "/pw" },
    sources({ EV_KAFKA_USER: "u" }, { "/pw": "x\r\n" }),
  );
  assert.equal(crlf?.password, "x");
});

Deno.test("half a pair, a missing or empty file, an unknown mechanism: usage errors", () => {
  const cases: [Parameters<typeof kafkaCredentials>[0], CredentialSources, RegExp][] = [
    [{ "kafka-user": "driver" }, sources({}), /user "driver" needs a password/],
    [{}, sources({ EV_KAFKA_PASSWORD: "p" }), /needs its user/],
    [{ "kafka-user": "u", "kafka-password-file": "/nope" }, sources({}), /cannot read.*no such/],
    [{ "kafka-user": "u", "kafka-password-file": "/e" }, sources({}, { "/e": "\n" }), /one line/],
    [{ "kafka-user": "u", "kafka-password-file": "/m" }, sources({}, { "/m": "a\nb" }), /one line/],
    [
      {},
      sources({ EV_KAFKA_USER: "u", EV_KAFKA_PASSWORD: "p", EV_KAFKA_MECHANISM: "PLAIN" }),
      /SCRAM-SHA-256 or SCRAM-SHA-512/,
    ],
  ];
  for (const [options, src, message] of cases) {
    assert.throws(() => kafkaCredentials(options, src), (e) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("the text for logs names the user, never the password", () => {
  const text = credentialsText({ mechanism: "scram-sha-256", username: "driver", password: "pw1" });
  assert.equal(text, "user driver (SCRAM-SHA-256)");
  assert.equal(credentialsText(undefined), "no credentials");
});
