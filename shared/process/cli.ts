/**
 * Command-line parsing shared by the four programs: `--help`, positional arguments with
 * their own parsers, and one clear line plus exit code 2 for anything wrong
 * (`node:util` parseArgs stands in for jsr:@std/cli, which is out of reach).
 *
 * @module
 */
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { type HostPort, hostPortText, splitHostPort } from "../net/host_port.ts";
import { ID_PATTERN } from "../protocol/validate.ts";

/** Thrown by argument parsers; the message is shown after "error:". */
export class UsageError extends Error {
  override name = "UsageError";
}

/** One option: `--name <value>` (string) or `--name` (boolean). */
export interface OptionSpec {
  type: "string" | "boolean";
  help: string;
  /** Shown in help, e.g. "<seconds>". */
  arg?: string;
  default?: string | boolean;
  short?: string;
}

/** What a program accepts. */
export interface ProgramSpec<O extends Record<string, OptionSpec>> {
  name: string;
  summary: string;
  positionals: { name: string; help: string; optional?: boolean }[];
  options: O;
  /** Extra lines shown at the end of `--help`. */
  notes?: string[];
}

/** Parsed option values. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K]["type"] extends "boolean" ? boolean : string | undefined;
};

/** Parsed command line. */
export interface Parsed<O extends Record<string, OptionSpec>> {
  positionals: string[];
  options: OptionValues<O>;
}

/** The help text for a program. */
export function helpText<O extends Record<string, OptionSpec>>(spec: ProgramSpec<O>): string {
  const pos = spec.positionals.map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`));
  const lines = [
    `${spec.name} — ${spec.summary}`,
    "",
    `Usage: ${spec.name} ${pos.join(" ")} [options]`,
  ];
  if (spec.positionals.length) {
    lines.push("", "Arguments:");
    for (const p of spec.positionals) lines.push(`  ${p.name.padEnd(24)} ${p.help}`);
  }
  lines.push("", "Options:");
  const opts = Object.entries(spec.options);
  opts.push(["help", { type: "boolean", help: "show this help and exit", short: "h" }]);
  for (const [name, o] of opts) {
    const flag = `--${name}${o.arg ? " " + o.arg : ""}${o.short ? `, -${o.short}` : ""}`;
    const def = o.default !== undefined && o.type === "string" ? ` (default: ${o.default})` : "";
    lines.push(`  ${flag.padEnd(24)} ${o.help}${def}`);
  }
  if (spec.notes?.length) lines.push("", ...spec.notes);
  return lines.join("\n");
}

/**
 * Parses `args` for `spec`. Prints help and exits 0 on `--help`; prints one error line and
 * exits 2 on anything wrong. `validate` may throw {@link UsageError} for semantic checks.
 */
export function parseCommandLine<O extends Record<string, OptionSpec>, T>(
  spec: ProgramSpec<O>,
  args: string[],
  validate: (parsed: Parsed<O>) => T,
): T {
  try {
    const parsed = parseCli(spec, args);
    if (parsed === "help") {
      console.log(helpText(spec));
      Deno.exit(0);
    }
    return validate(parsed);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${spec.name}: error: ${e.message} (see ${spec.name} --help)`);
    Deno.exit(2);
  }
}

/** Parses without exiting: the parsed line, "help", or a thrown {@link UsageError}. */
export function parseCli<O extends Record<string, OptionSpec>>(
  spec: ProgramSpec<O>,
  args: string[],
): Parsed<O> | "help" {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  let result;
  try {
    result = parseArgs({
      args: negativeValuesInline(args, options),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0].replace(/\. To specify.*$/, ""));
  }
  if (result.values.help) return "help";
  const required = spec.positionals.filter((p) => !p.optional).length;
  if (result.positionals.length < required) {
    const missing = spec.positionals[result.positionals.length].name;
    throw new UsageError(`missing argument <${missing}>`);
  }
  if (result.positionals.length > spec.positionals.length) {
    throw new UsageError(`unexpected argument "${result.positionals[spec.positionals.length]}"`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    values[name] = result.values[name] ?? o.default ?? (o.type === "boolean" ? false : undefined);
  }
  return { positionals: result.positionals, options: values as OptionValues<O> };
}

/** Whether `text` reads as a negative number (as Number reads it: "-1", "-.5", "-1e3"). */
const isNegativeNumber = (text: string) => text.startsWith("-") && !Number.isNaN(Number(text));

/**
 * parseArgs refuses a string option's value that starts with "-" as "ambiguous"; a negative
 * number is meant as the value, so it is joined to its option (`--price=-1`) and reaches the
 * option's own parser, whose error says what is wrong with it.
 */
function negativeValuesInline(
  args: string[],
  options: Record<string, { type: "string" | "boolean"; short?: string }>,
): string[] {
  const byShort = new Map(
    Object.entries(options).flatMap(([name, o]) => (o.short ? [[o.short, name]] : [])),
  );
  const nameOf = (arg: string) =>
    arg.startsWith("--") ? arg.slice(2) : /^-.$/.test(arg) ? byShort.get(arg[1]) ?? "" : "";
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return out.concat(args.slice(i));
    const name = nameOf(arg);
    const next = args[i + 1];
    if (options[name]?.type === "string" && next !== undefined && isNegativeNumber(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Parses a TCP port (1-65535). */
export function parsePort(text: string, what = "port"): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) {
    throw new UsageError(`${what} must be a number from 1 to 65535, got "${text}"`);
  }
  return n;
}

/** Parses `host:port` (IPv6 as `[::1]:9092`). */
export function parseHostPort(text: string, what = "address"): HostPort {
  const parts = splitHostPort(text);
  if (!parts) throw new UsageError(`${what} must look like host:port, got "${text}"`);
  return { host: parts.host, port: parsePort(parts.port, `${what} port`) };
}

/**
 * Parses `host:port[,host:port…]` (e.g. an active Central and its standbys), in the order
 * given; an empty item or an address given twice is a usage error.
 */
export function parseHostPortList(text: string, what = "address"): HostPort[] {
  const items = text.split(",");
  if (items.some((item) => item.trim() === "")) {
    throw new UsageError(`${what}: empty address in "${text}"`);
  }
  const list = items.map((item) => parseHostPort(item.trim(), what));
  const seen = new Set<string>();
  for (const address of list) {
    const key = hostPortText(address);
    if (seen.has(key)) throw new UsageError(`${what}: ${key} is given twice`);
    seen.add(key);
  }
  return list;
}

/**
 * Parses an address to listen on: an IP address of this machine (IPv6 with or without
 * brackets), `0.0.0.0` for every interface. Host names are refused: which interface a name
 * resolves to is not the operator's choice to leave to a resolver.
 */
export function parseListenHost(text: string, what: string): string {
  const host = /^\[.*\]$/.test(text) ? text.slice(1, -1) : text;
  if (!isIP(host)) {
    throw new UsageError(
      `${what} must be an IP address such as 127.0.0.1 or 0.0.0.0 (every interface), got "${text}"`,
    );
  }
  return host;
}

/** Parses `<port>` (on `defaultHost`) or `<ip>:<port>` to listen on. */
export function parseListenAddress(text: string, what: string, defaultHost: string): HostPort {
  if (/^\d+$/.test(text)) return { host: defaultHost, port: parsePort(text, `${what} port`) };
  const parts = splitHostPort(text);
  if (!parts || !isIP(parts.host)) {
    throw new UsageError(
      `${what} must be <port> or <ip>:<port>, e.g. 127.0.0.1:8080, got "${text}"`,
    );
  }
  return { host: parts.host, port: parsePort(parts.port, `${what} port`) };
}

/** Parses a number within [min, max]. */
export function parseNumber(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${what} must be a number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

/** Parses an id (CP or driver) with the same rule as messages. */
export function parseId(text: string, what: string): string {
  if (!ID_PATTERN.test(text)) {
    throw new UsageError(`${what} must be 1-64 letters, digits, . _ : - (got "${text}")`);
  }
  return text;
}
