/**
 * The keys Central issues its CPs for the codes on their telemetry
 * (shared/protocol/record_mac.ts): a new one at every registration, sent in WELCOME and
 * stored, and the one before it, still valid for what the engine signed just before the
 * monitor registered again. A record of a CP is authentic only under one of these two.
 *
 * @module
 */
import {
  type CpKey,
  type MacKey,
  macKey,
  macRefusal,
  newCpKey,
  type RecordHeaders,
} from "../shared/protocol/record_mac.ts";

/** A CP's valid keys, as stored: the current one and the one before it. */
export interface IssuedKeys {
  cp_id: string;
  key: CpKey;
  previous?: CpKey;
}

/** Every CP's valid keys, in memory for the check of each record. */
export class CpKeyRing {
  readonly #keys = new Map<string, { current: CpKey; valid: MacKey[] }>();

  /** `stored`: the keys the database holds (a restarted Central checks what they signed). */
  constructor(stored: Iterable<IssuedKeys> = []) {
    for (const k of stored) this.#set(k);
  }

  /**
   * A new key for `cpId`, numbered one more than its current one, which stays valid as the
   * previous: the keys to store (the `cp_key` effect) before the key leaves in WELCOME.
   */
  issue(cpId: string): IssuedKeys {
    const current = this.#keys.get(cpId)?.current;
    const issued = { cp_id: cpId, key: newCpKey((current?.id ?? 0) + 1), previous: current };
    this.#set(issued);
    return issued;
  }

  /** Why a record of `cpId` (its value's bytes or text) is not authentic, or undefined. */
  refusal(
    cpId: string,
    value: string | Uint8Array,
    headers: RecordHeaders,
  ): Promise<string | undefined> {
    return macRefusal(this.#keys.get(cpId)?.valid ?? [], value, headers);
  }

  #set(k: IssuedKeys): void {
    const valid = [k.key, ...(k.previous ? [k.previous] : [])].map(macKey);
    this.#keys.set(k.cp_id, { current: k.key, valid });
  }
}
