import assert from "node:assert/strict";
import { UsageError } from "../shared/process/cli.ts";
import { parseDbPath } from "./db_path.ts";

Deno.test("a SQLite file path is taken as it is", () => {
  for (const path of ["central.db", "./data/c.db", "/tmp/x.db", "../c.db", "C:\\ev\\c.db"]) {
    assert.equal(parseDbPath(path), path);
  }
});

Deno.test("a database server's address or URL is refused, naming what is supported", () => {
  for (
    const server of [
      "127.0.0.1:5432",
      "db.example.com:5432",
      "localhost:5432",
      "[::1]:5432",
      "postgres://ev:pw@10.0.0.2:5432/ev",
      "postgresql://127.0.0.1/ev",
    ]
  ) {
    assert.throws(
      () => parseDbPath(server),
      (e: Error) =>
        e instanceof UsageError &&
        e.message.startsWith(`db_path "${server}" is a database server`) &&
        e.message.includes("only a SQLite file path is supported, e.g. evcharging.db"),
      server,
    );
  }
});
