/**
 * A small runtime validator for messages that arrive from other processes.
 *
 * Each field checker either returns the typed value or throws a {@link ValidationError}
 * whose message names the field and says what was expected, so the receiver can log one
 * clear line and drop the message.
 *
 * @module
 */

/** Thrown when a value does not have the expected shape. */
export class ValidationError extends Error {
  override name = "ValidationError";
}

/** Checks one value; `path` names it in error messages. */
export type Field<T> = (value: unknown, path: string) => T;

/** An object specification: one checker per field. */
export type Spec = Record<string, Field<unknown>>;

type OptionalKeys<S extends Spec> = {
  [K in keyof S]: undefined extends ReturnType<S[K]> ? K : never;
}[keyof S];

/** The object type a {@link Spec} describes; optional fields become optional properties. */
export type Infer<S extends Spec> =
  & { [K in Exclude<keyof S, OptionalKeys<S>>]: ReturnType<S[K]> }
  & { [K in OptionalKeys<S>]?: ReturnType<S[K]> };

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function fail(path: string, expected: string, value: unknown): never {
  throw new ValidationError(`field "${path}": expected ${expected}, got ${describe(value)}`);
}

/** Identifiers (CP ids, driver ids): short, printable, no spaces. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** An identifier matching {@link ID_PATTERN}. */
export const id: Field<string> = (v, path) => {
  if (typeof v !== "string" || !ID_PATTERN.test(v)) {
    fail(path, "an id (1-64 letters, digits, . _ : -)", v);
  }
  return v;
};

/** A string of at most `max` characters (empty allowed unless `min` > 0). */
export function text(max = 200, min = 0): Field<string> {
  return (v, path) => {
    if (typeof v !== "string" || v.length > max || v.length < min) {
      fail(path, `a text of ${min}-${max} characters`, v);
    }
    return v;
  };
}

/** A finite number within [min, max]. */
export function num(min = -Infinity, max = Infinity): Field<number> {
  return (v, path) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
      fail(path, `a number ${range}`, v);
    }
    return v;
  };
}

/** A non-negative integer. */
export const count: Field<number> = (v, path) => {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    fail(path, "a non-negative integer", v);
  }
  return v;
};

/** A millisecond timestamp (after 2020, so seconds or garbage are refused). */
export const timestamp: Field<number> = (v, path) => {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1_577_836_800_000) {
    fail(path, "a timestamp in milliseconds", v);
  }
  return v;
};

/** A boolean. */
export const bool: Field<boolean> = (v, path) => {
  if (typeof v !== "boolean") fail(path, "true or false", v);
  return v;
};

/** One of the given literal strings. */
export function oneOf<const T extends string>(...values: T[]): Field<T> {
  return (v, path) => {
    if (typeof v !== "string" || !(values as string[]).includes(v)) {
      fail(path, `one of ${values.join(", ")}`, v);
    }
    return v as T;
  };
}

/** Makes a field optional: absent (or null) gives `undefined`. */
export function optional<T>(field: Field<T>): Field<T | undefined> {
  return (v, path) => (v === undefined || v === null ? undefined : field(v, path));
}

// Each spec's fields, listed once: Object.entries on every message was a tenth of what
// Central allocated at 10,000 telemetry messages a second.
const fieldLists = new WeakMap<Spec, { keys: string[]; fields: Field<unknown>[] }>();

function fieldsOf(spec: Spec): { keys: string[]; fields: Field<unknown>[] } {
  let list = fieldLists.get(spec);
  if (!list) {
    list = { keys: Object.keys(spec), fields: Object.values(spec) };
    fieldLists.set(spec, list);
  }
  return list;
}

/** Checks that `value` is a plain object and every field of `spec` in it. */
export function object<S extends Spec>(value: unknown, spec: S): Infer<S> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ValidationError(`expected a JSON object, got ${describe(value)}`);
  }
  const input = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const { keys, fields } = fieldsOf(spec);
  for (let i = 0; i < keys.length; i++) {
    const checked = fields[i](input[keys[i]], keys[i]);
    if (checked !== undefined) out[keys[i]] = checked;
  }
  return out as Infer<S>;
}

/** Parses JSON text, turning a syntax error into a {@link ValidationError}. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`not valid JSON (${(e as Error).message})`);
  }
}
