/**
 * Turns the HTTP API's query strings and bodies into validated filters and commands, with a
 * plain error for anything wrong. Pure: tested without a server.
 *
 * @module
 */
import type { HistoryFilter } from "./db.ts";
import { parseTarget } from "./operator.ts";
import { ID_PATTERN } from "../shared/protocol/validate.ts";

/** A request the API refuses, with its HTTP status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const MAX_LIMIT = 1000;

function time(value: string, name: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n)) {
    throw new ApiError(
      400,
      `${name} must be a time in ms since the epoch or ISO 8601, got "${value}"`,
    );
  }
  return n;
}

function whole(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ApiError(
      400,
      `${name} must be a whole number from ${min} to ${max}, got "${value.slice(0, 40)}"`,
    );
  }
  return n;
}

/** Parses `?cp=&driver=&status=&kind=&from=&to=&limit=&offset=` for the history routes. */
export function parseHistoryQuery(
  params: URLSearchParams,
  allowed: (keyof HistoryFilter)[],
): HistoryFilter {
  const f: HistoryFilter = {};
  for (const [key, value] of params) {
    if (!(allowed as string[]).includes(key) && !["from", "to", "limit", "offset"].includes(key)) {
      throw new ApiError(
        400,
        `unknown filter "${key}" (use ${[...allowed, "from", "to", "limit", "offset"].join(", ")})`,
      );
    }
    switch (key) {
      case "from":
      case "to":
        f[key] = time(value, key);
        break;
      case "limit":
        f.limit = whole(value, key, 1, MAX_LIMIT);
        break;
      case "offset":
        f.offset = whole(value, key, 0, Number.MAX_SAFE_INTEGER);
        break;
      case "status":
        if (!["RUNNING", "ENDED", "ABORTED"].includes(value)) {
          throw new ApiError(400, `status must be RUNNING, ENDED or ABORTED, got "${value}"`);
        }
        f.status = value;
        break;
      default:
        if (!ID_PATTERN.test(value) && key !== "kind") {
          throw new ApiError(400, `${key} must be an id, got "${value.slice(0, 40)}"`);
        }
        (f as Record<string, string>)[key] = value.slice(0, 64);
    }
  }
  return f;
}

// A request body that must be a JSON object; `example` shows the caller what was expected.
function jsonObject(text: string, example: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(400, `body must be JSON like ${example}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** A validated POST /command body. */
export interface CommandBody {
  command: "PARAR" | "REANUDAR";
  cp_id: string;
}

/** Parses the JSON text of a POST /command body. */
export function parseCommandBody(text: string): CommandBody {
  const { command, cp_id } = jsonObject(text, '{"command": "PARAR", "cp_id": "CP-01"}');
  if (command !== "PARAR" && command !== "REANUDAR") {
    throw new ApiError(400, 'command must be "PARAR" or "REANUDAR"');
  }
  if (typeof cp_id !== "string") throw new ApiError(400, 'cp_id must be a CP id or "all"');
  try {
    return { command, cp_id: parseTarget(cp_id) };
  } catch (e) {
    throw new ApiError(400, (e as Error).message);
  }
}

/** A validated POST /cps body: enrol a CP with its secret. */
export interface EnrolBody {
  cp_id: string;
  secret: string;
}

/** Parses the JSON text of a POST /cps body. */
export function parseEnrolBody(text: string): EnrolBody {
  const { cp_id, secret } = jsonObject(text, '{"cp_id": "CP-01", "secret": "…"}');
  if (typeof cp_id !== "string" || !ID_PATTERN.test(cp_id)) {
    throw new ApiError(400, "cp_id must be a CP id");
  }
  if (typeof secret !== "string" || secret.length < 8 || secret.length > 200) {
    throw new ApiError(400, "secret must be a text of 8 to 200 characters");
  }
  return { cp_id, secret };
}
