import assert from "node:assert/strict";
import { join } from "node:path";
import { type LogRecord, setSink } from "../shared/process/log.ts";
import { CentralDb } from "./db.ts";
import { type CentralApi, handle } from "./http_api.ts";
import type { CpView } from "./views.ts";

const TOKEN = "operator-token";
const T0 = 1_800_000_000_000;

function view(cp_id: string): CpView {
  return {
    cp_id,
    location: "x",
    price_eur_kwh: 0.5,
    state: "ACTIVADO",
    link: "up",
    health: "OK",
    stopped: false,
    session: null,
  };
}

/** A fake Central that records what the API asked of it. */
interface FakeCentral extends CentralApi {
  commands: [string, string][];
  enrolled: [string, string][];
  forgotten: string[];
  resets: number;
  kafka: boolean;
}

function fakeCentral(db: CentralDb): FakeCentral {
  // "CP 01" has a space: only a decoded path finds it.
  const cps = [view("CP-01"), view("CP 01")];
  const known = (id: string) => cps.find((c) => c.cp_id === id);
  const fake: FakeCentral = {
    db,
    token: TOKEN,
    commands: [],
    enrolled: [],
    forgotten: [],
    resets: 0,
    kafka: true,
    kafkaReachable: () => fake.kafka,
    cps: () => cps,
    cp: known,
    recentEvents: () => [],
    stats: () => ({}),
    metrics: () => ({ lag_p99_ms: 7 }),
    resetMetrics: () => void fake.resets++,
    command: (command, target) => {
      if (target !== "all" && !known(target)) return false;
      fake.commands.push([command, target]);
      return true;
    },
    // "CP-01" is connected; "CP 01" may go.
    forget: (cpId) => {
      if (!known(cpId)) return { ok: false, refusal: "UNKNOWN", reason: `unknown CP "${cpId}"` };
      if (cpId === "CP-01") {
        return { ok: false, refusal: "CONNECTED", reason: "CP-01 is connected: stop it first" };
      }
      fake.forgotten.push(cpId);
      return { ok: true };
    },
    enrol: (cpId, secret) => {
      fake.enrolled.push([cpId, secret]);
      return Promise.resolve();
    },
    subscribe: () => () => {},
  };
  return fake;
}

// Runs `fn` against a fake Central over a real database in a temporary directory, with two
// events stored (one of kind "averia") so that history queries reach the database.
async function withCentral(fn: (central: FakeCentral) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ev-http-" });
  const db = new CentralDb(join(dir, "c.db"));
  db.apply([
    { kind: "event", event: { at: T0, cp_id: "CP-01", kind: "averia", detail: "engine KO" } },
    { kind: "event", event: { at: T0 + 1, cp_id: "CP-01", kind: "recuperada", detail: "OK" } },
  ], T0 + 1);
  try {
    await fn(fakeCentral(db));
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

interface Answer {
  status: number;
  type: string;
  text: string;
  /** The parsed JSON body; empty for any other type. */
  body: Record<string, unknown>;
}

interface Send {
  /** Sent as is when a text, as JSON otherwise. */
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
}

async function call(
  central: CentralApi,
  method: string,
  path: string,
  { body, token, headers = {} }: Send = {},
): Promise<Answer> {
  const h = new Headers(headers);
  if (token !== undefined) h.set("authorization", `Bearer ${token}`);
  const res = await handle(
    new Request(`http://x${path}`, {
      method,
      headers: h,
      body: body === undefined || typeof body === "string" ? body : JSON.stringify(body),
    }),
    central,
  );
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  return {
    status: res.status,
    type,
    text,
    body: type.startsWith("application/json") ? JSON.parse(text) : {},
  };
}

// Asserts an error answer: its status, and a JSON `{error}` matching `re`.
function assertError(a: Answer, status: number, re: RegExp, what: string): void {
  assert.equal(a.status, status, `${what}: ${a.text}`);
  assert.match(a.type, /^application\/json/, what);
  assert.match(String(a.body.error), re, what);
}

Deno.test("routes: every route answers", () =>
  withCentral(async (central) => {
    const panel = await call(central, "GET", "/");
    assert.equal(panel.status, 200);
    assert.match(panel.type, /^text\/html/);
    assert.match(panel.text, /<html/i);

    const cps = await call(central, "GET", "/cps");
    assert.deepEqual(cps.body, { items: [view("CP-01"), view("CP 01")] });
    assert.deepEqual((await call(central, "GET", "/cps/CP-01")).body, view("CP-01"));
    assert.deepEqual((await call(central, "GET", "/metrics")).body, { lag_p99_ms: 7 });
    assert.equal(central.resets, 0);
    assert.equal((await call(central, "GET", "/metrics?reset")).status, 200);
    assert.equal(central.resets, 1, "?reset forgets the samples");

    const sessions = await call(central, "GET", "/sessions");
    assert.deepEqual(sessions.body, { items: [], total: 0, limit: 100, offset: 0 });
    const events = await call(central, "GET", "/events?kind=averia&cp=CP-01&limit=5");
    assert.deepEqual([events.body.total, events.body.limit], [1, 5]);
    assert.equal((events.body.items as { detail: string }[])[0].detail, "engine KO");

    assert.deepEqual((await call(central, "GET", "/auth", { token: TOKEN })).body, { ok: true });
    // A plain GET cannot become a WebSocket: the route is there, and says what it expects.
    assertError(await call(central, "GET", "/ws"), 400, /expects a WebSocket upgrade/, "/ws");
  }));

Deno.test("routes: an unknown path is a 404; a known one with another method, a 405", () =>
  withCentral(async (central) => {
    const cases: [string, string, number, RegExp][] = [
      ["GET", "/nope", 404, /^no route \/nope \(try GET \/cps, \/sessions, \/events or POST/],
      ["GET", "/cps/CP-01/more", 404, /no route \/cps\/CP-01\/more/],
      ["POST", "/sessions", 405, /^POST is not allowed on \/sessions$/],
      ["DELETE", "/cps", 405, /^DELETE is not allowed on \/cps$/],
      ["GET", "/command", 405, /^GET is not allowed on \/command$/],
      ["PUT", "/", 405, /^PUT is not allowed on \/$/],
      ["POST", "/cps/CP-01", 405, /^POST is not allowed on \/cps\/CP-01$/],
    ];
    for (const [method, path, status, re] of cases) {
      assertError(await call(central, method, path), status, re, `${method} ${path}`);
    }
  }));

Deno.test("a 405 names the methods the path allows", () =>
  withCentral(async (central) => {
    const res = await handle(new Request("http://x/cps", { method: "DELETE" }), central);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, POST");
    await res.body?.cancel();
    const one = await handle(new Request("http://x/cps/CP-01", { method: "PUT" }), central);
    assert.equal(one.headers.get("allow"), "GET, DELETE");
    await one.body?.cancel();
  }));

Deno.test("health: 200 while Central reads Kafka, 503 while it cannot", () =>
  withCentral(async (central) => {
    assert.deepEqual(await call(central, "GET", "/health"), {
      status: 200,
      type: "application/json; charset=utf-8",
      text: '{"kafka":"reachable"}',
      body: { kafka: "reachable" },
    });
    central.kafka = false;
    const away = await call(central, "GET", "/health");
    assert.deepEqual([away.status, away.body], [503, { kafka: "unreachable" }]);
  }));

Deno.test("routes: trailing slashes are ignored", () =>
  withCentral(async (central) => {
    assert.deepEqual((await call(central, "GET", "/cps/")).body.items, central.cps());
    assert.equal((await call(central, "GET", "/sessions//")).body.total, 0);
    assert.deepEqual((await call(central, "GET", "/cps/CP-01/")).body, view("CP-01"));
    const command = await call(central, "POST", "/command/", {
      body: { command: "REANUDAR", cp_id: "CP-01" },
      token: TOKEN,
    });
    assert.equal(command.status, 200);
  }));

Deno.test("routes: /cps/:id is URL-decoded; an unknown or malformed id is a 404", () =>
  withCentral(async (central) => {
    assert.deepEqual((await call(central, "GET", "/cps/CP%2001")).body, view("CP 01"));
    assertError(await call(central, "GET", "/cps/CP-99"), 404, /^unknown CP "CP-99"$/, "CP-99");
    // The error shows the id as it came, cut to 64 characters.
    const long = `CP%20${"x".repeat(100)}`;
    const cut = await call(central, "GET", `/cps/${long}`);
    assert.equal(cut.body.error, `unknown CP "${long.slice(0, 64)}"`);
    assertError(await call(central, "GET", "/cps/%E0%A4%A"), 404, /unknown CP/, "bad escape");
  }));

const PARAR = { command: "PARAR", cp_id: "CP-01" };

Deno.test("auth: commands need the operator token: 403 with none configured, 401 if wrong", () =>
  withCentral(async (central) => {
    const wrong: [string, Send][] = [
      ["no header", { body: PARAR }],
      ["wrong token", { body: PARAR, token: "nope" }],
      ["not Bearer", { body: PARAR, headers: { authorization: TOKEN } }],
    ];
    for (const [what, send] of wrong) {
      assertError(await call(central, "POST", "/command", send), 401, /valid operator token/, what);
    }
    assertError(await call(central, "GET", "/auth", { token: "nope" }), 401, /token/, "/auth");
    central.token = undefined;
    assertError(
      await call(central, "POST", "/command", { body: PARAR, token: TOKEN }),
      403,
      /disabled: start EV_Central with --token/,
      "no token configured",
    );
    assertError(await call(central, "POST", "/cps", { token: TOKEN }), 403, /disabled/, "enrol");
    assert.deepEqual([central.commands, central.enrolled], [[], []], "nothing ran");
  }));

Deno.test("POST /command runs the command; an unknown CP is a 404", () =>
  withCentral(async (central) => {
    const ok = await call(central, "POST", "/command", { body: PARAR, token: TOKEN });
    assert.deepEqual([ok.status, ok.body], [200, { ok: true, ...PARAR }]);
    const unknown = await call(central, "POST", "/command", {
      body: { command: "REANUDAR", cp_id: "CP-99" },
      token: TOKEN,
    });
    assertError(unknown, 404, /^unknown CP "CP-99"$/, "CP-99");
    assert.deepEqual(central.commands, [["PARAR", "CP-01"]]);
  }));

Deno.test("POST /cps enrols a CP with its secret: 201", () =>
  withCentral(async (central) => {
    const body = { cp_id: "CP-07", secret: "a long enough secret" };
    const enrolled = await call(central, "POST", "/cps", { body, token: TOKEN });
    assert.deepEqual([enrolled.status, enrolled.body], [201, { ok: true, cp_id: "CP-07" }]);
    assert.deepEqual(central.enrolled, [["CP-07", "a long enough secret"]]);
    const short = await call(central, "POST", "/cps", {
      body: { cp_id: "CP-08", secret: "short" },
      token: TOKEN,
    });
    assertError(short, 400, /secret must be a text of 8 to 200/, "short secret");
  }));

Deno.test("DELETE /cps/:id forgets a CP: the token, then 404 unknown, 409 connected, 200", () =>
  withCentral(async (central) => {
    assertError(await call(central, "DELETE", "/cps/CP%2001"), 401, /operator token/, "no token");
    const del = (path: string) => call(central, "DELETE", path, { token: TOKEN });
    assertError(await del("/cps/CP-99"), 404, /^unknown CP "CP-99"$/, "unknown");
    assertError(await del("/cps/CP-01"), 409, /^CP-01 is connected: stop it first$/, "linked");
    assertError(await del("/cps/%E0%A4%A"), 404, /unknown CP/, "bad escape");
    assert.deepEqual(central.forgotten, [], "nothing forgotten yet");
    const ok = await del("/cps/CP%2001");
    assert.deepEqual([ok.status, ok.body], [200, { ok: true, cp_id: "CP 01" }]);
    assert.deepEqual(central.forgotten, ["CP 01"]);
  }));

Deno.test("history: a bad query is a 400 that says what is expected", () =>
  withCentral(async (central) => {
    const cases: [string, RegExp][] = [
      ["/sessions?status=DONE", /status must be RUNNING, ENDED or ABORTED/],
      ["/sessions?kind=averia", /unknown filter "kind"/],
      ["/events?from=yesterday", /from must be a time/],
      ["/events?limit=5000", /limit must be a whole number from 1 to 1000/],
    ];
    for (const [path, re] of cases) assertError(await call(central, "GET", path), 400, re, path);
  }));

Deno.test("bodies: over 4096 bytes is a 413, declared or not", () =>
  withCentral(async (central) => {
    const big = JSON.stringify({ ...PARAR, padding: "x".repeat(4096) });
    const sends: [string, string, Send][] = [
      ["/command", "sent", { body: big, token: TOKEN }],
      ["/cps", "sent", { body: big, token: TOKEN }],
      ["/command", "declared", {
        body: JSON.stringify(PARAR),
        token: TOKEN,
        headers: { "content-length": "5000" },
      }],
    ];
    for (const [path, what, send] of sends) {
      const a = await call(central, "POST", path, send);
      assertError(a, 413, /body larger than 4096 bytes/, `${path} ${what}`);
    }
    assert.deepEqual([central.commands, central.enrolled], [[], []], "nothing ran");
  }));

Deno.test("bodies: a chunked 10 MB body is refused (413) after its first 4096 bytes, not read in full", () =>
  withCentral(async (central) => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let pulled = 0;
    const tenMegabytes = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled++ === 160) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await handle(
      new Request("http://x/command", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: tenMegabytes,
      }),
      central,
    );
    assert.equal(res.status, 413);
    assert.match(await res.text(), /body larger than 4096 bytes/);
    assert.ok(pulled <= 3, `${pulled} chunks of 64 KiB read before the 413`);
    assert.deepEqual(central.commands, [], "nothing ran");
  }));

Deno.test("an unexpected failure is a 500 without detail; the detail goes to the log", () =>
  withCentral(async (central) => {
    central.cps = () => {
      throw new Error("secret internals");
    };
    const logged: LogRecord[] = [];
    const previous = setSink((r) => logged.push(r));
    try {
      const a = await call(central, "GET", "/cps");
      assert.deepEqual([a.status, a.body], [500, { error: "internal error" }]);
    } finally {
      setSink(previous);
    }
    assert.equal(logged.length, 1);
    assert.match(logged[0].message, /^GET \/cps: .*secret internals/);
  }));
