/**
 * What checking a telemetry record's code costs Central, beside the alternatives it was
 * chosen over: microseconds per record of telemetry size, on this machine. Printed by
 * `deno task bench` before the fleets, so that the choice in shared/protocol/record_mac.ts
 * can be checked on the machine at hand.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { macKey, macRefusal, newCpKey, signedHeaders } from "../shared/protocol/record_mac.ts";

/** Microseconds per record for each way of checking a code. */
export interface MacCost {
  blake3_keyed_us: number;
  hmac_sha256_node_us: number;
  hmac_sha256_webcrypto_us: number;
  json_parse_us: number;
}

/** Times `n` checks of a telemetry-sized record each way. */
export async function macCost(n = 20_000): Promise<MacCost> {
  const key = macKey(newCpKey(1));
  const text = JSON.stringify({
    type: "TELEMETRY",
    id: crypto.randomUUID(),
    ts: Date.now(),
    cp_id: "F-00001",
    driver_id: "FD-1-1",
    session_id: crypto.randomUUID(),
    consumo_kwh: 1.2345,
    importe_eur: 0.37,
    seq: 12,
  });
  // As kafkajs hands them to Central: bytes.
  const headers = Object.fromEntries(
    Object.entries(await signedHeaders(key, text)).map((
      [k, v],
    ) => [k, new TextEncoder().encode(v)]),
  );
  const web = await crypto.subtle.importKey(
    "raw",
    key.bytes.slice(),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const bytes = new TextEncoder().encode(text);
  const time = async (f: () => unknown) => {
    for (let i = 0; i < n / 4; i++) await f(); // warmed up: the JIT, WebAssembly's first call
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await f();
    return Math.round(((performance.now() - t0) * 1000 / n) * 100) / 100;
  };
  return {
    blake3_keyed_us: await time(() => macRefusal([key], bytes, headers)),
    hmac_sha256_node_us: await time(() => createHmac("sha256", key.bytes).update(text).digest()),
    hmac_sha256_webcrypto_us: await time(() => crypto.subtle.sign("HMAC", web, bytes)),
    json_parse_us: await time(() => JSON.parse(text)),
  };
}

if (import.meta.main) console.table([await macCost()]);
