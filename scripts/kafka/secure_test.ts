import assert from "node:assert/strict";
import { join } from "node:path";
import { credentialsDir, rolePasswords, scramFormatArgs, secureProperties } from "./secure.ts";

const noEnv = () => undefined;

Deno.test("passwords: made once per data folder, kept readable by this user only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await rolePasswords(dir, false, noEnv);
    assert.deepEqual(Object.keys(first), ["admin", "central", "engine", "driver"]);
    const passwords = Object.values(first).map((c) => c.password);
    assert.equal(new Set(passwords).size, 4, "each user its own password");
    for (const p of passwords) assert.match(p, /^[0-9a-f]{40}$/);
    assert.equal(first.driver.username, "driver");
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(credentialsDir(dir))).mode! & 0o777, 0o700);
      const file = join(credentialsDir(dir), "driver.password");
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    }
    assert.deepEqual(await rolePasswords(dir, true, noEnv), first, "read back, not made again");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("passwords: given by the environment before the format, fixed after it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = (name: string) =>
      name === "EV_KAFKA_DRIVER_PASSWORD" ? "driver-pass-0123" : undefined;
    assert.equal((await rolePasswords(dir, false, env)).driver.password, "driver-pass-0123");
    const other = (name: string) =>
      name === "EV_KAFKA_DRIVER_PASSWORD" ? "another-pass-0123" : undefined;
    await assert.rejects(() => rolePasswords(dir, true, other), /differs .* use another --data/);
    await Deno.remove(join(credentialsDir(dir), "engine.password"));
    await assert.rejects(() => rolePasswords(dir, true, noEnv), /engine\.password is missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const fresh = await Deno.makeTempDir();
  try {
    const bad = (name: string) => name === "EV_KAFKA_ADMIN_PASSWORD" ? 'pw"; evil' : undefined;
    await assert.rejects(() => rolePasswords(fresh, false, bad), /EV_KAFKA_ADMIN_PASSWORD must/);
  } finally {
    await Deno.remove(fresh, { recursive: true });
  }
});

Deno.test("the secure broker's settings: SCRAM for clients, ACLs deny by default", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const creds = await rolePasswords(dir, false, noEnv);
    const props = secureProperties(
      { listenHost: "0.0.0.0", port: 9092, advertised: "10.0.0.2", controllerPort: 9093 },
      creds.admin,
    );
    for (
      const line of [
        "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "listeners=CLIENT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093",
        "advertised.listeners=CLIENT://10.0.0.2:9092",
        "allow.everyone.if.no.acl.found=false",
        "super.users=User:admin",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      ]
    ) assert.ok(props.includes(line), line);
    const scram = scramFormatArgs(creds);
    assert.equal(scram.filter((a) => a === "--add-scram").length, 4);
    assert.ok(scram.includes(`SCRAM-SHA-256=[name=driver,password=${creds.driver.password}]`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
