/**
 * Several EV_Centrals in one scenario, for the standby tests (one database, or one network):
 * each Central with its ports, database and API, CPs whose monitors know them all, and
 * whether a port listens.
 *
 * @module
 */
import { centralApi, freePort, OPERATOR_TOKEN, type Proc, type Scenario } from "./harness.ts";

/** One Central's process, ports, database and API. */
export interface Central {
  proc: Proc;
  port: number;
  http: number;
  db: string;
  api: ReturnType<typeof centralApi>;
}

/** Starts a Central named `name` on database `db`, with free ports; does not wait for it. */
export function startCentral(s: Scenario, db: string, name: string): Central {
  const port = freePort();
  const http = freePort();
  const proc = s.spawn(
    "central",
    [String(port), s.bootstrap, db, "--http", String(http), "--token", OPERATOR_TOKEN],
    name,
  );
  return { proc, port, http, db, api: centralApi(`http://127.0.0.1:${http}`) };
}

/** Starts an engine (3 s supplies) and a monitor that knows every Central, in this order. */
export async function cpKnowing(
  s: Scenario,
  id: string,
  centrals: Central[],
): Promise<{ engine: Proc; monitor: Proc }> {
  const enginePort = freePort();
  const engine = await s.engine(enginePort, ["--duration", "3"], `engine ${id}`);
  const list = centrals.map((c) => `127.0.0.1:${c.port}`).join(",");
  const monitor = s.spawn("monitor", [`127.0.0.1:${enginePort}`, list, id], `monitor ${id}`);
  return { engine, monitor };
}

/** Whether something accepts TCP connections on loopback `port`. */
export async function listening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}
