import assert from "node:assert/strict";
import { UsageError } from "../process/cli.ts";
import { readPemFile } from "./pem_file.ts";

Deno.test("PEM files: read, or a one-line usage error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cert = `${dir}/c.pem`;
    await Deno.writeTextFile(
      cert,
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    );
    assert.match(readPemFile(cert, "--tls-ca", "certificate"), /BEGIN CERTIFICATE/);
    assert.throws(
      () => readPemFile(cert, "--tls-key", "private key"),
      (e) => e instanceof UsageError && /--tls-key .*c\.pem: not a PEM private key/.test(e.message),
    );
    assert.throws(
      () => readPemFile(`${dir}/none.pem`, "--tls-cert", "certificate"),
      (e) => e instanceof UsageError && /--tls-cert .*none\.pem: no such file/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
