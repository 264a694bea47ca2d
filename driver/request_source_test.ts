import assert from "node:assert/strict";
import {
  prompted,
  type PromptScreen,
  QUESTION,
  type RequestSource,
  requestSource,
  type SourceInput,
} from "./request_source.ts";

/** A prompt screen that records each call as `ask`, `say …` or `answered`. */
function recordingScreen(): PromptScreen & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    ask: (question) => void calls.push(question === QUESTION ? "ask" : `ask ${question}`),
    say: (line) => void calls.push(`say ${line}`),
    answered: () => void calls.push("answered"),
  };
}

/** Files by path (a missing one is NotFound, an Error value is thrown) and a marked prompt. */
function input(files: Record<string, string | Error>): SourceInput & { read: string[] } {
  const read: string[] = [];
  return {
    read,
    readTextFile: (path) => {
      read.push(path);
      const f = files[path];
      if (f === undefined) return Promise.reject(new Deno.errors.NotFound(`no such file: ${path}`));
      return f instanceof Error ? Promise.reject(f) : Promise.resolve(f);
    },
    prompt: (screen) => prompted(lines(["PROMPTED"]), screen),
  };
}

async function* lines(items: string[]): AsyncGenerator<string> {
  yield* items;
}

/** The source, failing the test on errors. */
function sourceOf(result: RequestSource | { errors: string[] }): RequestSource {
  if ("errors" in result) assert.fail(`unexpected errors: ${result.errors.join("; ")}`);
  return result;
}

Deno.test("--cp asks for one charge and reads no file", async () => {
  const io = input({ "r.txt": "CP-01\n" });
  const source = sourceOf(
    await requestSource({ cp: "CP-09", file: "r.txt" }, recordingScreen(), io),
  );
  assert.deepEqual(await Array.fromAsync(source.ids), ["CP-09"]);
  assert.equal(source.describe, "--cp CP-09");
  assert.deepEqual(io.read, []);
});

Deno.test("a named file, or requests.txt by default, gives its ids in order", async () => {
  const io = input({ "trip.txt": "# my trip\nCP-01\n\nCP-02\n", "requests.txt": "CP-07\n" });
  const named = sourceOf(await requestSource({ file: "trip.txt" }, recordingScreen(), io));
  assert.deepEqual(await Array.fromAsync(named.ids), ["CP-01", "CP-02"]);
  assert.equal(named.describe, "2 request(s) from trip.txt");
  const byDefault = sourceOf(await requestSource({}, recordingScreen(), io));
  assert.deepEqual(await Array.fromAsync(byDefault.ids), ["CP-07"]);
  assert.equal(byDefault.describe, "1 request(s) from requests.txt");
});

Deno.test("without requests.txt here and no file named, the prompt, on the screen given", async () => {
  const screen = recordingScreen();
  const source = sourceOf(await requestSource({}, screen, input({})));
  assert.deepEqual(await Array.fromAsync(source.ids), ["PROMPTED"]);
  assert.deepEqual(screen.calls, ["ask", "answered", "ask", "answered"]);
  assert.equal(source.describe, "the prompt (no requests.txt here)");
});

Deno.test("a named file that cannot be read, or any unreadable default, is an error", async () => {
  assert.deepEqual(
    await requestSource({ file: "/nonexistent/req.txt" }, recordingScreen(), input({})),
    {
      errors: [
        'cannot read requests file "/nonexistent/req.txt": no such file: /nonexistent/req.txt',
      ],
    },
  );
  const denied = input({ "requests.txt": new Deno.errors.PermissionDenied("denied") });
  assert.deepEqual(await requestSource({}, recordingScreen(), denied), {
    errors: ['cannot read requests file "requests.txt": denied'],
  });
});

Deno.test("every bad line of the file is named, with its number", async () => {
  const io = input({ "r.txt": "CP-01\n\nCP 02\nok-3\nno way\n" });
  assert.deepEqual(await requestSource({ file: "r.txt" }, recordingScreen(), io), {
    errors: ['r.txt:3: "CP 02" is not a valid CP id', 'r.txt:5: "no way" is not a valid CP id'],
  });
});

Deno.test("the prompt: asks before each line, skips what is not an id, ends on an empty line", async () => {
  const screen = recordingScreen();
  const typed = ["CP-01", "not an id!", "CP-02", "", "CP-03"];
  const got: string[] = [];
  for await (const id of prompted(lines(typed), screen)) {
    got.push(id);
    screen.calls.push(`charge ${id}`);
  }
  assert.deepEqual(got, ["CP-01", "CP-02"]);
  // The question comes back after each charge, and is never left asking at the end.
  assert.deepEqual(screen.calls, [
    "ask",
    "answered",
    "charge CP-01",
    "ask",
    "answered",
    'say "not an id!" is not a CP id',
    "ask",
    "answered",
    "charge CP-02",
    "ask",
    "answered",
    "answered",
  ]);
});

Deno.test("the prompt ends with its input (Ctrl+D) and cuts a long wrong line", async () => {
  const screen = recordingScreen();
  const got = await Array.fromAsync(prompted(lines(["x".repeat(100) + " y", "CP-05"]), screen));
  assert.deepEqual(got, ["CP-05"]);
  assert.deepEqual(screen.calls.filter((c) => c.startsWith("say")), [
    `say "${"x".repeat(40)}" is not a CP id`,
  ]);
  assert.equal(screen.calls.at(-1), "answered", "the question does not stay after Ctrl+D");
});

Deno.test("the prompt stopped early (Ctrl+C during a charge) leaves no question asking", async () => {
  const screen = recordingScreen();
  for await (const _ of prompted(lines(["CP-01", "CP-02"]), screen)) break;
  assert.deepEqual(screen.calls, ["ask", "answered", "answered"]);
});
