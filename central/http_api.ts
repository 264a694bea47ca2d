/**
 * Central's HTTP API and web panel: `GET /` (the panel), `GET /ws` (live updates),
 * `GET /cps`, `GET /sessions`, `GET /events`, `POST /command`. Every error is JSON with a
 * 4xx status and a plain message.
 *
 * @module
 */
import panel from "./web/panel.html" with { type: "text" };
import { errorText, logger } from "../shared/process/log.ts";
import { ApiError, parseCommandBody, parseEnrolBody, parseHistoryQuery } from "./api_query.ts";
import { sameText } from "./secrets.ts";
import type { CentralDb } from "./db.ts";
import type { NetworkEvent } from "./rules.ts";
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
  /** The operator token that commands need; without one, HTTP commands are disabled. */
  token?: string;
  /** Registers a change listener; returns its removal. */
  subscribe(listener: () => void): () => void;
}

const MAX_BODY = 4096;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
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

/** Handles one request. */
export async function handle(req: Request, api: CentralApi): Promise<Response> {
  const url = new URL(req.url);
  const route = `${req.method} ${url.pathname.replace(/\/+$/, "") || "/"}`;
  try {
    switch (route) {
      case "GET /":
        return new Response(panel, { headers: { "content-type": "text/html; charset=utf-8" } });
      case "GET /ws":
        return upgrade(req, api);
      case "GET /cps":
        return json(200, { items: api.cps() });
      case "GET /metrics":
        if (url.searchParams.has("reset")) api.resetMetrics();
        return json(200, api.metrics());
      case "GET /sessions":
        return json(
          200,
          api.db.sessions(parseHistoryQuery(url.searchParams, ["cp", "driver", "status"])),
        );
      case "GET /events":
        return json(
          200,
          api.db.events(parseHistoryQuery(url.searchParams, ["cp", "kind", "session"])),
        );
      case "GET /auth":
        authorize(req, api);
        return json(200, { ok: true });
      case "POST /cps": {
        authorize(req, api);
        const body = parseEnrolBody(await readBody(req));
        await api.enrol(body.cp_id, body.secret);
        return json(201, { ok: true, cp_id: body.cp_id });
      }
      case "POST /command": {
        authorize(req, api);
        const text = await readBody(req);
        const cmd = parseCommandBody(text);
        if (!api.command(cmd.command, cmd.cp_id)) {
          throw new ApiError(404, `unknown CP "${cmd.cp_id}"`);
        }
        return json(200, { ok: true, command: cmd.command, cp_id: cmd.cp_id });
      }
    }
    const one = /^\/cps\/([^/]+)$/.exec(url.pathname);
    if (one && req.method === "GET") {
      const cp = api.cp(decodeURIComponent(one[1]));
      if (!cp) throw new ApiError(404, `unknown CP "${one[1].slice(0, 64)}"`);
      return json(200, cp);
    }
    const known = ["/", "/ws", "/cps", "/sessions", "/events", "/command", "/auth", "/metrics"];
    if (known.includes(url.pathname)) {
      throw new ApiError(405, `${req.method} is not allowed on ${url.pathname}`);
    }
    throw new ApiError(
      404,
      `no route ${url.pathname} (try GET /cps, /sessions, /events or POST /command)`,
    );
  } catch (e) {
    if (e instanceof ApiError) return json(e.status, { error: e.message });
    log.error(`${route}: ${errorText(e)}`);
    return json(500, { error: "internal error" });
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

async function readBody(req: Request): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY) throw new ApiError(413, `body larger than ${MAX_BODY} bytes`);
  const text = await req.text();
  if (text.length > MAX_BODY) throw new ApiError(413, `body larger than ${MAX_BODY} bytes`);
  return text;
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
