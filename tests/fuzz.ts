/**
 * Seeded generators of malformed input for the fuzz test: TCP frames and Kafka messages that
 * the message catalogue must reject. Only rejected candidates are kept, so the fuzz test
 * knows exactly what state the system must end in.
 *
 * @module
 */

import { mulberry32, pick, type Random as Rng } from "../scripts/chaos/prng.ts";

/** The seeded generator of the fuzz test: the chaos campaign's, so one PRNG serves both. */
export const prng: (seed: number) => Rng = mulberry32;
const encoder = new TextEncoder();

const WRONG_VALUES: unknown[] = [
  null,
  -1,
  1e308,
  "",
  "x".repeat(500),
  [],
  {},
  true,
  "CP 01",
  "🙂",
  0.5,
  "NaN",
  -0.0001,
];

/** One mutation of a JSON object: a field dropped, retyped, or the type renamed. */
export function mutate(rng: Rng, template: Record<string, unknown>): unknown {
  const copy: Record<string, unknown> = { ...template };
  const keys = Object.keys(copy);
  switch (Math.floor(rng() * 5)) {
    case 0:
      delete copy[pick(rng, keys)];
      return copy;
    case 1:
      copy[pick(rng, keys)] = pick(rng, WRONG_VALUES);
      return copy;
    case 2:
      copy.type = pick(rng, ["", "toString", "__proto__", "REGISTERX", 42, "telemetry"]);
      return copy;
    case 3:
      return pick(rng, [[copy], "a string", 12, null, [1, 2]]);
    default:
      copy[pick(rng, keys)] = pick(rng, WRONG_VALUES);
      delete copy[pick(rng, keys)];
      return copy;
  }
}

/** Random bytes. */
export function noise(rng: Rng, max = 64): Uint8Array {
  return Uint8Array.from({ length: 1 + Math.floor(rng() * max) }, () => Math.floor(rng() * 256));
}

/** Text that is not valid JSON (truncated, prefixed, or random). */
export function brokenJson(rng: Rng, template: Record<string, unknown>): string {
  const text = JSON.stringify(template);
  return pick(rng, [
    text.slice(0, Math.floor(rng() * text.length)),
    `garbage${text}`,
    text.replaceAll('"', "'"),
    new TextDecoder().decode(noise(rng)),
  ]);
}

/**
 * Generates `n` values that `rejects` confirms are invalid: mutations of the templates,
 * broken JSON, noise.
 */
export function invalidMessages(
  rng: Rng,
  n: number,
  templates: Record<string, unknown>[],
  rejects: (raw: unknown) => boolean,
): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const template = pick(rng, templates);
    if (rng() < 0.25) {
      const text = brokenJson(rng, template);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        out.push(text);
        continue;
      }
      if (rejects(parsed)) out.push(text);
      continue;
    }
    const candidate = mutate(rng, template);
    if (rejects(candidate)) out.push(JSON.stringify(candidate));
  }
  return out;
}

/** A frame with a body of `text`, or with a length that lies about it. */
export function frameOf(rng: Rng, text: string): Uint8Array {
  const body = encoder.encode(text);
  const lie = rng() < 0.05;
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(
    0,
    lie ? body.length + 1 + Math.floor(rng() * 100) : body.length,
  );
  out.set(body, 4);
  return out;
}
