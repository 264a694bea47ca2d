/**
 * The one way input from another process becomes a typed message: a parser from the
 * catalogue ({@link ./messages.ts}) applied to JSON, where a {@link ValidationError} is an
 * answer ("this is not a message: why"), never an exception that escapes the reader.
 *
 * Every reader at the edge — TCP links and servers, Kafka consumers — goes through
 * {@link decodeJson} or {@link decodeValue} and hands what does not parse to its own
 * `onInvalid`, so no receiver crashes or stalls on what a peer sends it.
 *
 * @module
 */
import { parseJson, ValidationError } from "./validate.ts";

/**
 * Turns a JSON value into a typed message; throws {@link ValidationError} when it is not one.
 * `context` is what the reader knows besides the value (e.g. the Kafka record it came in).
 */
export type Parser<T, C = undefined> = (raw: unknown, context: C) => T;

/** A parsed message, or why the input was not one. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Applies `parse` to an already parsed JSON value. Only validation failures are caught. */
export function decodeValue<T, C = undefined>(
  raw: unknown,
  parse: Parser<T, C>,
  context?: C,
): Decoded<T> {
  try {
    return { ok: true, value: parse(raw, context as C) };
  } catch (e) {
    return refusal(e);
  }
}

/**
 * Parses JSON text, then applies `parse`; bad JSON is a validation failure like any other.
 * No closure per call: Central decodes ten thousand readings a second through it.
 */
export function decodeJson<T, C = undefined>(
  text: string,
  parse: Parser<T, C>,
  context?: C,
): Decoded<T> {
  try {
    return { ok: true, value: parse(parseJson(text), context as C) };
  } catch (e) {
    return refusal(e);
  }
}

function refusal(e: unknown): Decoded<never> {
  if (e instanceof ValidationError) return { ok: false, error: e.message };
  throw e;
}
