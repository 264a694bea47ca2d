/**
 * The operator's command language, shared by Central's keyboard and its HTTP API:
 * `parar <CP|all>`, `reanudar <CP|all>`, `enrol <CP> <secret>`, `forget <CP>`, `help`, `quit`.
 *
 * @module
 */
import { ID_PATTERN } from "../shared/protocol/validate.ts";

/** A parsed operator command. */
export type OperatorCommand =
  | { kind: "PARAR" | "REANUDAR"; target: string }
  | { kind: "enrol"; cpId: string; secret: string }
  | { kind: "forget"; cpId: string }
  | { kind: "help" }
  | { kind: "quit" };

/** The help line shown under the panel. */
export const COMMAND_HELP =
  "Commands: parar <CP|all> (stop, orange) · reanudar <CP|all> (resume) · enrol <CP> <secret> · forget <CP> · help · quit";

/** Parses a typed line; throws an Error with a plain message when it is not a command. */
export function parseOperatorLine(line: string): OperatorCommand {
  const [verb = "", target, ...rest] = line.trim().split(/\s+/);
  const v = verb.toLowerCase();
  if (v === "help" || v === "?" || v === "h") return { kind: "help" };
  if (v === "quit" || v === "exit" || v === "q") return { kind: "quit" };
  if (v === "enrol" || v === "enroll") {
    if (!target || rest.length !== 1) throw new Error("usage: enrol <CP> <secret>");
    if (target.toLowerCase() === "all" || !ID_PATTERN.test(target)) {
      throw new Error(`"${target.slice(0, 40)}" is not a CP id`);
    }
    if (rest[0].length < 8) throw new Error("a secret needs at least 8 characters");
    return { kind: "enrol", cpId: target, secret: rest[0] };
  }
  if (v === "forget") {
    if (!target || rest.length) throw new Error("usage: forget <CP>");
    if (target.toLowerCase() === "all") throw new Error("forget takes one CP at a time");
    if (!ID_PATTERN.test(target)) throw new Error(`"${target.slice(0, 40)}" is not a CP id`);
    return { kind: "forget", cpId: target };
  }
  const kind = ({
    parar: "PARAR",
    stop: "PARAR",
    p: "PARAR",
    reanudar: "REANUDAR",
    resume: "REANUDAR",
    r: "REANUDAR",
  } as const)[v as "parar"];
  if (!kind) throw new Error(`unknown command "${verb}". ${COMMAND_HELP}`);
  if (!target) throw new Error(`${v} needs a CP id or "all"`);
  if (rest.length) throw new Error(`${v} takes one CP id or "all"`);
  return { kind, target: parseTarget(target) };
}

/** A CP id or "all". */
export function parseTarget(target: string): string {
  if (target.toLowerCase() === "all") return "all";
  if (!ID_PATTERN.test(target)) throw new Error(`"${target.slice(0, 40)}" is not a CP id`);
  return target;
}
