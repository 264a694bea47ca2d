import assert from "node:assert/strict";
import {
  cpKeyField,
  CurrentKey,
  KEY_HEADER,
  MAC_HEADER,
  macKey,
  macRefusal,
  newCpKey,
  recordMac,
  signedHeaders,
} from "./record_mac.ts";
import { ValidationError } from "./validate.ts";

const text = JSON.stringify({ type: "TELEMETRY", cp_id: "CP-01", consumo_kwh: 1.5, seq: 4 });

Deno.test("record mac: a record signed with a key checks with it, as Kafka hands it over", async () => {
  const key = macKey(newCpKey(7));
  const headers = await signedHeaders(key, text);
  assert.equal(headers[KEY_HEADER], "7");
  assert.match(headers[MAC_HEADER], /^[0-9a-f]{64}$/);
  assert.equal(await macRefusal([key], text, headers), undefined);
  // kafkajs hands headers over as bytes.
  const bytes = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, new TextEncoder().encode(v)]),
  );
  assert.equal(await macRefusal([key], text, bytes), undefined);
});

Deno.test("record mac: the engine signs its text, Central checks the value's bytes", async () => {
  const key = macKey(newCpKey(2));
  // Not only ASCII: a string and its UTF-8 bytes must give one code.
  const named = JSON.stringify({ type: "TELEMETRY", cp_id: "CP-Ñandú-€", seq: 1 });
  const headers = await signedHeaders(key, named);
  assert.equal(await macRefusal([key], new TextEncoder().encode(named), headers), undefined);
  const latin1 = Uint8Array.from(named, (c) => c.charCodeAt(0) & 0xff);
  assert.equal(await macRefusal([key], latin1, headers), "wrong authentication code");
});

Deno.test("record mac: the previous key is still valid, an older or a stranger's is not", async () => {
  const [k1, k2, k3] = [1, 2, 3].map((id) => macKey(newCpKey(id)));
  const byK2 = await signedHeaders(k2, text);
  assert.equal(await macRefusal([k3, k2], text, byK2), undefined);
  assert.equal(await macRefusal([k3, k2], text, await signedHeaders(k1, text)), "key 1 not valid");
  const stranger = macKey(newCpKey(3));
  assert.equal(
    await macRefusal([k3], text, await signedHeaders(stranger, text)),
    "wrong authentication code",
  );
  assert.equal(await macRefusal([], text, byK2), "no key issued to this CP");
});

Deno.test("record mac: any change to the value, or a bad code, is refused", async () => {
  const key = macKey(newCpKey(1));
  const headers = await signedHeaders(key, text);
  const changed = text.replace("1.5", "150");
  assert.equal(await macRefusal([key], changed, headers), "wrong authentication code");
  assert.equal(await macRefusal([key], text, undefined), "no authentication code");
  assert.equal(await macRefusal([key], text, { [KEY_HEADER]: "1" }), "no authentication code");
  for (const mac of ["", "zz", "0".repeat(64), headers[MAC_HEADER].toUpperCase()]) {
    assert.equal(
      await macRefusal([key], text, { ...headers, [MAC_HEADER]: mac }),
      "wrong authentication code",
    );
  }
  // The code is of the exact bytes: a reformatted but equal JSON is another record.
  const spaced = JSON.stringify(JSON.parse(text), null, 1);
  assert.equal(await macRefusal([key], spaced, headers), "wrong authentication code");
});

Deno.test("record mac: codes differ by key and by text, and are stable", async () => {
  const key = macKey(newCpKey(1));
  assert.equal(await recordMac(key, text), await recordMac(key, text));
  assert.notEqual(await recordMac(key, text), await recordMac(macKey(newCpKey(1)), text));
  assert.notEqual(await recordMac(key, text), await recordMac(key, text + " "));
});

Deno.test("record mac: a key on the wire is validated", () => {
  const key = newCpKey(2);
  assert.deepEqual(cpKeyField(key, "cp_key"), key);
  for (const bad of [{ id: -1, secret: key.secret }, { id: 1, secret: "ab" }, { id: 1 }, "x"]) {
    assert.throws(() => cpKeyField(bad, "cp_key"), ValidationError);
  }
});

Deno.test("record mac: the current key changes with a new number or a new secret", async () => {
  const current = new CurrentKey();
  assert.equal(current.get(), undefined);
  const first = newCpKey(1);
  current.set(first);
  const mac = current.get();
  current.set({ ...first });
  assert.equal(current.get(), mac, "the same key handed over again is not converted again");
  // Another Central (another database) numbers its first key 1 too.
  const other = newCpKey(1);
  current.set(other);
  const headers = await signedHeaders(current.get()!, text);
  assert.equal(await macRefusal([macKey(other)], text, headers), undefined);
});
