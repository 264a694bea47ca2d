import assert from "node:assert/strict";
import { prompted, type RequestSource, requestSource, type SourceInput } from "./request_source.ts";

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
    prompt: () => prompted(lines(["PROMPTED"]), () => {}, () => {}),
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
  const source = sourceOf(await requestSource({ cp: "CP-09", file: "r.txt" }, io));
  assert.deepEqual(await Array.fromAsync(source.ids), ["CP-09"]);
  assert.equal(source.describe, "--cp CP-09");
  assert.deepEqual(io.read, []);
});

Deno.test("a named file, or requests.txt by default, gives its ids in order", async () => {
  const io = input({ "trip.txt": "# my trip\nCP-01\n\nCP-02\n", "requests.txt": "CP-07\n" });
  const named = sourceOf(await requestSource({ file: "trip.txt" }, io));
  assert.deepEqual(await Array.fromAsync(named.ids), ["CP-01", "CP-02"]);
  assert.equal(named.describe, "2 request(s) from trip.txt");
  const byDefault = sourceOf(await requestSource({}, io));
  assert.deepEqual(await Array.fromAsync(byDefault.ids), ["CP-07"]);
  assert.equal(byDefault.describe, "1 request(s) from requests.txt");
});

Deno.test("without requests.txt here and no file named, the prompt", async () => {
  const source = sourceOf(await requestSource({}, input({})));
  assert.deepEqual(await Array.fromAsync(source.ids), ["PROMPTED"]);
  assert.equal(source.describe, "the prompt (no requests.txt here)");
});

Deno.test("a named file that cannot be read, or any unreadable default, is an error", async () => {
  assert.deepEqual(await requestSource({ file: "/nonexistent/req.txt" }, input({})), {
    errors: [
      'cannot read requests file "/nonexistent/req.txt": no such file: /nonexistent/req.txt',
    ],
  });
  const denied = input({ "requests.txt": new Deno.errors.PermissionDenied("denied") });
  assert.deepEqual(await requestSource({}, denied), {
    errors: ['cannot read requests file "requests.txt": denied'],
  });
});

Deno.test("every bad line of the file is named, with its number", async () => {
  const io = input({ "r.txt": "CP-01\n\nCP 02\nok-3\nno way\n" });
  assert.deepEqual(await requestSource({ file: "r.txt" }, io), {
    errors: ['r.txt:3: "CP 02" is not a valid CP id', 'r.txt:5: "no way" is not a valid CP id'],
  });
});

Deno.test("the prompt: asks before each line, skips what is not an id, ends on an empty line", async () => {
  let asked = 0;
  const said: string[] = [];
  const typed = ["CP-01", "not an id!", "CP-02", "", "CP-03"];
  const got = await Array.fromAsync(
    prompted(lines(typed), () => asked++, (l) => said.push(l)),
  );
  assert.deepEqual(got, ["CP-01", "CP-02"]);
  assert.deepEqual(said, ['"not an id!" is not a CP id']);
  assert.equal(
    asked,
    4,
    "once at the start and after each of the three lines before the empty one",
  );
});

Deno.test("the prompt ends with its input (Ctrl+D) and cuts a long wrong line", async () => {
  const said: string[] = [];
  const got = await Array.fromAsync(
    prompted(lines(["x".repeat(100) + " y", "CP-05"]), () => {}, (l) => said.push(l)),
  );
  assert.deepEqual(got, ["CP-05"]);
  assert.deepEqual(said, [`"${"x".repeat(40)}" is not a CP id`]);
});
