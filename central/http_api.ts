/**
 * Central's HTTP API and web panel: `GET /` (the panel), `GET /ws` (live updates),
 * `GET /cps`, `GET /cps/:id`, `GET /sessions`, `GET /events`, `GET /metrics`, `GET /health`,
 * `GET /auth`,
 * `POST /cps` (enrol), `DELETE /cps/:id` (forget) and `POST /command`, all in one route table. Every error is JSON with a
 * 4xx status and a plain message.
 *
 * @module
 */
import panel from "./web/panel.html" with { type: "text" };
import { errorText, logger } from "../shared/process/log.ts";
import { ApiError, parseCommandBody, parseEnrolBody, parseHistoryQuery } from "./api_query.ts";
import { sameText } from "./secrets.ts";
import type { CentralDb } from "./db.ts";
import type { ForgetRefusal, NetworkEvent } from "./rules.ts";
import type { CpView } from "./views.ts";

const log = logger("http");

/** What the API needs from Central. */
export interface CentralApi {
  db: CentralDb;
  cps(): CpView[];
  recentEvents(): NetworkEvent[];
  stats(): Record<string, number>;
  /** Runs an operator command; false when the CP is unknown. */
  command(command: "PARAR" | "REANUDAR", target: string): boolean;
  /** One CP, if known. */
  cp(cpId: string): CpView | undefined;
  /** Counters and telemetry lag percentiles. */
  metrics(): Record<string, number>;
  /** Forgets the lag samples. */
  resetMetrics(): void;
  /** Enrols a CP with a secret. */
  enrol(cpId: string, secret: string): Promise<void>;
  /** Forgets a CP that is neither connected nor supplying; otherwise says why not. */
  forget(cpId: string): { ok: true } | { ok: false; refusal: ForgetRefusal; reason: string };
  /** The operator token that commands need; without one, HTTP commands are disabled. */
  token?: string;
  /** Registers a change listener; returns its removal. */
  subscribe(listener: () => void): () => void;
  /** Whether Central can read Kafka now (false before it could, and while it cannot). */
  kafkaReachable(): boolean;
}

const MAX_BODY = 4096;
const HTML = "text/html; charset=utf-8";

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** The live snapshot the panel gets. */
export function snapshot(api: CentralApi): string {
  return JSON.stringify({
    type: "snapshot",
    at: Date.now(),
    cps: api.cps(),
    events: api.recentEvents(),
    stats: api.stats(),
  });
}

/** What a route's handler gets. */
interface Call {
  req: Request;
  api: CentralApi;
  url: URL;
  /** The pattern's named groups, still percent-encoded as they came. */
  params: Record<string, string | undefined>;
}

/** One entry of the route table. */
interface Route {
  method: "GET" | "POST" | "DELETE";
  pattern: URLPattern;
  handler: (call: Call) => Response | Promise<Response>;
}

function route(method: Route["method"], pathname: string, handler: Route["handler"]): Route {
  return { method, pattern: new URLPattern({ pathname }), handler };
}

/** Every route; a path that only matches under other methods is a 405, any other a 404. */
const ROUTES: Route[] = [
  route("GET", "/", () => new Response(panel, { headers: { "content-type": HTML } })),
  route("GET", "/ws", ({ req, api }) => upgrade(req, api)),
  route("GET", "/cps", ({ api }) => json(200, { items: api.cps() })),
  route("GET", "/cps/:id", ({ api, params }) => oneCp(api, params.id ?? "")),
  route("GET", "/metrics", metrics),
  route("GET", "/health", health),
  route("GET", "/sessions", sessions),
  route("GET", "/events", events),
  route("GET", "/auth", auth),
  route("POST", "/cps", enrol),
  route("DELETE", "/cps/:id", forget),
  route("POST", "/command", command),
];

/** Handles one request. */
export async function handle(req: Request, api: CentralApi): Promise<Response> {
  const url = new URL(req.url);
  // Trailing slashes are ignored: `/cps/` is `/cps`.
  const path = url.pathname.replace(/\/+$/, "") || "/";
  try {
    const matches = ROUTES.flatMap((r) => {
      const m = r.pattern.exec({ pathname: path });
      return m ? [{ route: r, params: m.pathname.groups }] : [];
    });
    const hit = matches.find((m) => m.route.method === req.method);
    // Awaited here so that a handler's rejection is answered below like a throw.
    if (hit) return await hit.route.handler({ req, api, url, params: hit.params });
    if (matches.length > 0) {
      const allow = [...new Set(matches.map((m) => m.route.method))].join(", ");
      const error = `${req.method} is not allowed on ${url.pathname}`;
      return json(405, { error }, { allow });
    }
    throw new ApiError(
      404,
      `no route ${url.pathname} (try GET /cps, /sessions, /events or POST /command)`,
    );
  } catch (e) {
    if (e instanceof ApiError) return json(e.status, { error: e.message });
    log.error(`${req.method} ${path}: ${errorText(e)}`);
    return json(500, { error: "internal error" });
  }
}

function metrics({ api, url }: Call): Response {
  if (url.searchParams.has("reset")) api.resetMetrics();
  return json(200, api.metrics());
}

// For operators, scripts and load balancers: 200 while Central serves, 503 while it cannot
// read Kafka (requests wait, the session watchdog is paused).
function health({ api }: Call): Response {
  const kafka = api.kafkaReachable() ? "reachable" : "unreachable";
  return json(kafka === "reachable" ? 200 : 503, { kafka });
}

function sessions({ api, url }: Call): Response {
  return json(
    200,
    api.db.sessions(parseHistoryQuery(url.searchParams, ["cp", "driver", "status"])),
  );
}

function events({ api, url }: Call): Response {
  return json(200, api.db.events(parseHistoryQuery(url.searchParams, ["cp", "kind", "session"])));
}

// Lets the panel check a token before it offers the command buttons.
function auth({ req, api }: Call): Response {
  authorize(req, api);
  return json(200, { ok: true });
}

async function enrol({ req, api }: Call): Promise<Response> {
  authorize(req, api);
  const body = parseEnrolBody(await readBody(req));
  await api.enrol(body.cp_id, body.secret);
  return json(201, { ok: true, cp_id: body.cp_id });
}

async function command({ req, api }: Call): Promise<Response> {
  authorize(req, api);
  const cmd = parseCommandBody(await readBody(req));
  if (!api.command(cmd.command, cmd.cp_id)) throw new ApiError(404, `unknown CP "${cmd.cp_id}"`);
  return json(200, { ok: true, command: cmd.command, cp_id: cmd.cp_id });
}

// A CP still linked or supplying is a conflict with its state, not a bad request.
function forget({ req, api, params }: Call): Response {
  authorize(req, api);
  const raw = params.id ?? "";
  const id = decoded(raw);
  if (id === undefined) throw new ApiError(404, `unknown CP "${raw.slice(0, 64)}"`);
  const outcome = api.forget(id);
  if (!outcome.ok) throw new ApiError(outcome.refusal === "UNKNOWN" ? 404 : 409, outcome.reason);
  return json(200, { ok: true, cp_id: id });
}

// `raw` is the id as it came in the path; the error shows it that way.
function oneCp(api: CentralApi, raw: string): Response {
  const id = decoded(raw);
  const cp = id === undefined ? undefined : api.cp(id);
  if (!cp) throw new ApiError(404, `unknown CP "${raw.slice(0, 64)}"`);
  return json(200, cp);
}

// A malformed escape (`%E0%A4%A`) names no CP: undefined rather than a URIError and a 500.
function decoded(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

// Commands need `Authorization: Bearer <token>`; reading stays open.
function authorize(req: Request, api: CentralApi): void {
  if (!api.token) {
    throw new ApiError(
      403,
      "operator commands over HTTP are disabled: start EV_Central with --token or EV_OPERATOR_TOKEN",
    );
  }
  const given = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
  if (!sameText(given, api.token)) {
    throw new ApiError(401, "a valid operator token is needed (Authorization: Bearer <token>)");
  }
}

/**
 * The body as text, read while it streams: one byte over {@link MAX_BODY}, declared or sent
 * (chunked), and the rest is never read.
 */
async function readBody(req: Request): Promise<string> {
  const tooLarge = () => new ApiError(413, `body larger than ${MAX_BODY} bytes`);
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY) throw tooLarge();
  if (!req.body) return "";
  const bytes = new Uint8Array(MAX_BODY);
  let size = 0;
  const reader = req.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    if (size + r.value.byteLength > MAX_BODY) {
      await reader.cancel();
      throw tooLarge();
    }
    bytes.set(r.value, size);
    size += r.value.byteLength;
  }
  return new TextDecoder().decode(bytes.subarray(0, size));
}

function upgrade(req: Request, api: CentralApi): Response {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(400, "GET /ws expects a WebSocket upgrade");
  }
  const { socket, response } = Deno.upgradeWebSocket(req);
  // Updates are coalesced: at most one snapshot per 250 ms however fast things change,
  // so the cost does not grow with the message rate.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const push = () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (socket.readyState === WebSocket.OPEN) socket.send(snapshot(api));
    }, 250);
  };
  let unsubscribe = () => {};
  socket.onopen = () => {
    socket.send(snapshot(api));
    unsubscribe = api.subscribe(push);
  };
  socket.onclose = () => {
    unsubscribe();
    clearTimeout(timer);
  };
  socket.onerror = () => socket.close();
  return response;
}

/** Starts the HTTP server. */
export function startHttp(port: number, hostname: string, api: CentralApi): Deno.HttpServer {
  return Deno.serve(
    { port, hostname, onListen: () => {}, onError: (e) => json(500, { error: errorText(e) }) },
    (req) => handle(req, api),
  );
}
