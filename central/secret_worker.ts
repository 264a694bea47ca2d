/**
 * The worker thread of {@link SecretVerifier}: checks secrets against their stored hashes, so
 * that the key stretching never runs on Central's event loop.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { verifySecret } from "./secrets.ts";

/** A check asked of the worker. */
export interface VerifyJob {
  id: number;
  secret: string;
  stored: string;
}

self.onmessage = async (e: MessageEvent<VerifyJob>) => {
  const { id, secret, stored } = e.data;
  let ok = false;
  try {
    ok = await verifySecret(secret, stored);
  } catch {
    // a malformed stored hash matches nothing
  }
  self.postMessage({ id, ok });
};
