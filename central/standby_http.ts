/**
 * The HTTP API of a standby Central: it serves nothing, and says so on every path with 503,
 * so that an operator or a load balancer sees which Central is active.
 *
 * @module
 */
import type { HostPort } from "../shared/net/host_port.ts";

/** Whose standby a Central is: the database's (another process holds its lease) or the network's. */
export type StandbyOf = "database" | "network";

/** The answer of a standby to any request: who is active instead. */
export function standbyAnswer(active: string, of: StandbyOf = "database"): Response {
  const error = of === "database"
    ? `standby: Central ${active} is active on this database`
    : `standby: another Central serves this network (${active})`;
  return Response.json({ role: "standby", active, error }, { status: 503 });
}

/** Serves {@link standbyAnswer} on `at` until shut down. */
export function startStandbyHttp(
  at: HostPort,
  active: string,
  of: StandbyOf = "database",
): Deno.HttpServer {
  return Deno.serve(
    { port: at.port, hostname: at.host, onListen: () => {} },
    () => standbyAnswer(active, of),
  );
}
