/**
 * Authentication codes on what a CP writes to Kafka. At every registration Central issues the
 * CP a new key over the monitor's link (WELCOME); the monitor hands it to its engine in its
 * paired health checks; the engine signs the exact bytes of each telemetry_topic record, and
 * Central drops a record whose code is missing or wrong. Whoever can write to Kafka but holds
 * no CP's key cannot move a CP's meter, end its supply, or make its real readings stale.
 *
 * The code is BLAKE3 in keyed mode (a MAC by design, 256 bits), computed in WebAssembly by
 * hash-wasm: Central checks ten thousand records a second, and HMAC-SHA256 through Deno's
 * node:crypto or WebCrypto costs 12-37 µs a record here, against ~2 µs (docs/performance.md).
 * It travels in two record headers, so the message itself keeps the catalogue's shape.
 *
 * @module
 */
import { blake3 } from "hash-wasm";
import { count, type Field, object, ValidationError } from "./validate.ts";

/** A CP's key: its number (one more at each registration) and 32 secret bytes in hex. */
export interface CpKey {
  id: number;
  secret: string;
}

/** The record header naming the key: its number. */
export const KEY_HEADER = "ev-key";
/** The record header holding the code: 64 hex digits. */
export const MAC_HEADER = "ev-mac";

const HEX_64 = /^[0-9a-f]{64}$/;

const secret: Field<string> = (v, path) => {
  if (typeof v !== "string" || !HEX_64.test(v)) {
    throw new ValidationError(`field "${path}": expected 64 hex digits`);
  }
  return v;
};

/** A key as it travels in WELCOME and in health checks. */
export const cpKeyField: Field<CpKey> = (v) => object(v, { id: count, secret });

/** A new key numbered `id`. */
export function newCpKey(id: number): CpKey {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return { id, secret: Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("") };
}

/** A key ready to sign and check with: its secret as bytes, converted once. */
export interface MacKey {
  readonly id: number;
  readonly bytes: Uint8Array;
}

/** The {@link MacKey} of `key`. */
export function macKey(key: CpKey): MacKey {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(key.secret.slice(2 * i, 2 * i + 2), 16);
  return { id: key.id, bytes };
}

/**
 * The code of a record's value under `key`: a string counts as its UTF-8 bytes, so the
 * engine signs its text and Central checks the bytes it consumed, without encoding the
 * text again (a third of a check's cost).
 */
export function recordMac(key: MacKey, value: string | Uint8Array): Promise<string> {
  return blake3(value, 256, key.bytes);
}

/** The headers that sign a record whose value is `text`. */
export async function signedHeaders(
  key: MacKey,
  text: string,
): Promise<Record<string, string>> {
  return { [KEY_HEADER]: String(key.id), [MAC_HEADER]: await recordMac(key, text) };
}

/** Record headers as kafkajs hands them over. */
export type RecordHeaders =
  | Record<string, Uint8Array | string | (Uint8Array | string)[] | undefined>
  | undefined;

/**
 * Why the record whose value is `value` is not authentic for a CP whose valid keys are `keys`
 * (the current and the one before, as records signed just before a registration may still be
 * on their way), or undefined when it is. The headers are read as the bytes kafkajs gives,
 * without decoding them: Central checks ten thousand records a second.
 */
export function macRefusal(
  keys: readonly MacKey[],
  value: string | Uint8Array,
  headers: RecordHeaders,
): Promise<string | undefined> {
  const keyId = header(headers, KEY_HEADER);
  const mac = header(headers, MAC_HEADER);
  if (keyId === undefined || mac === undefined) return refused("no authentication code");
  const id = decimal(keyId);
  const key = keys.find((k) => k.id === id);
  if (!key) {
    if (keys.length === 0) return refused("no key issued to this CP");
    return refused(`key ${textOf(keyId).slice(0, 20)} not valid`);
  }
  return recordMac(key, value).then((expected) =>
    equalHex(expected, mac) ? undefined : "wrong authentication code"
  );
}

const refused = (why: string) => Promise.resolve(why);

function header(headers: RecordHeaders, name: string): Uint8Array | string | undefined {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

// A key number as the header holds it; NaN for anything but 1-15 decimal digits.
function decimal(v: Uint8Array | string): number {
  if (v.length === 0 || v.length > 15) return NaN;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = (typeof v === "string" ? v.charCodeAt(i) : v[i]) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

const decoder = new TextDecoder();

function textOf(v: Uint8Array | string): string {
  return typeof v === "string" ? v : decoder.decode(v);
}

// In constant time for equal lengths: how far a guess matched must not show.
function equalHex(expected: string, got: Uint8Array | string): boolean {
  if (expected.length !== got.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^ (typeof got === "string" ? got.charCodeAt(i) : got[i]);
  }
  return diff === 0;
}

/**
 * The key a CP signs with now, as handed over again and again (every health check, every
 * WELCOME): converted once per new key. A key is new when its number or its secret differ:
 * two Centrals on different databases both number their first key 1.
 */
export class CurrentKey {
  #wire?: CpKey;
  #mac?: MacKey;

  /** Takes `key` as the current one. */
  set(key: CpKey): void {
    if (this.#wire?.id === key.id && this.#wire.secret === key.secret) return;
    this.#wire = key;
    this.#mac = macKey(key);
  }

  /** The current key, if one came yet. */
  get(): MacKey | undefined {
    return this.#mac;
  }
}
