import assert from "node:assert/strict";
import { isFenced } from "./producer.ts";

/** An error shaped as kafkajs builds them. */
const kafkaError = (type: string, message = type) => Object.assign(new Error(message), { type });

Deno.test("fenced: the broker's old-epoch answers, also wrapped; nothing else", () => {
  assert.equal(isFenced(kafkaError("INVALID_PRODUCER_EPOCH")), true);
  assert.equal(isFenced(kafkaError("KAFKAJS_UNKNOWN_ERROR_CODE", "Unknown error code 90")), true);
  const wrapped = Object.assign(new Error("retries exhausted"), {
    cause: kafkaError("INVALID_PRODUCER_EPOCH"),
  });
  assert.equal(isFenced(wrapped), true);
  assert.equal(isFenced(kafkaError("CONCURRENT_TRANSACTIONS")), false);
  assert.equal(isFenced(kafkaError("KAFKAJS_UNKNOWN_ERROR_CODE", "Unknown error code 900")), false);
  assert.equal(isFenced(new Error("Connection error: ECONNREFUSED")), false);
  assert.equal(isFenced("INVALID_PRODUCER_EPOCH"), false);
});
