/**
 * Central's third argument. The spec names it `[IP:Puerto_BBDD]`, a database server; until
 * one is supported, such an address must be refused, never taken as a file name.
 *
 * @module
 */
import { UsageError } from "../shared/process/cli.ts";
import { splitHostPort } from "../shared/net/host_port.ts";

/** The database file when none is given. */
export const DEFAULT_DB_PATH = "evcharging.db";

/** What `db_path` accepts today, said once for the help and the error. */
export const DB_PATH_HELP = `SQLite database file (default: ${DEFAULT_DB_PATH}); ` +
  "a database server (IP:port) is not supported yet";

/** A URL of any scheme (postgres://, postgresql://, …) names a server, not a file. */
const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Returns `text` as a SQLite file path, or throws a {@link UsageError} for a server address. */
export function parseDbPath(text: string): string {
  if (splitHostPort(text) || URL_SCHEME.test(text)) {
    throw new UsageError(
      `db_path "${text}" is a database server, which is not supported yet; ` +
        `only a SQLite file path is supported, e.g. ${DEFAULT_DB_PATH}`,
    );
  }
  return text;
}
