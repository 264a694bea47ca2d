import assert from "node:assert/strict";
import { pairingFilePath, readPairingFile, writePairingFile } from "./pairing_file.ts";

Deno.test("pairing file: written for the user only, read back by port", async () => {
  const home = await Deno.makeTempDir();
  const before = Deno.env.get("HOME");
  Deno.env.set("HOME", home);
  try {
    assert.equal(await readPairingFile(7001), undefined);
    const path = await writePairingFile(7001, "s".repeat(64));
    assert.equal(path, pairingFilePath(7001));
    assert.ok(path.startsWith(home));
    assert.equal(await readPairingFile(7001), "s".repeat(64));
    assert.equal(await readPairingFile(7002), undefined, "another engine's port");
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o077, 0);
    await writePairingFile(7001, "t".repeat(64));
    assert.equal(await readPairingFile(7001), "t".repeat(64), "a restart writes a new one");
  } finally {
    if (before === undefined) Deno.env.delete("HOME");
    else Deno.env.set("HOME", before);
    await Deno.remove(home, { recursive: true });
  }
});
