/**
 * `deno task test`: runs every test against a real Kafka broker. First makes sure of the
 * system packages the tests drive (scripts/test-tools.sh installs them, or stops the run with
 * the command that does). Uses EV_KAFKA_BROKER when it is set; otherwise starts a local
 * broker once for the whole run and stops it after.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { freePort, startBroker } from "./broker.ts";

const tools = await new Deno.Command("bash", {
  args: [fileURLToPath(new URL("test-tools.sh", import.meta.url))],
  stdin: "null",
}).spawn().status;
if (!tools.success) Deno.exit(tools.code);

const env: Record<string, string> = {};
let stop = async () => {};
if (!Deno.env.get("EV_KAFKA_BROKER")) {
  const dataDir = await Deno.makeTempDir({ prefix: "ev-test-kafka-" });
  const started = Date.now();
  const broker = await startBroker({ port: freePort(), dataDir });
  console.error(`test broker ready at ${broker.bootstrap} in ${Date.now() - started} ms`);
  env.EV_KAFKA_BROKER = broker.bootstrap;
  stop = async () => {
    await broker.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
}
const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "--allow-all", ...Deno.args],
  env,
  stdin: "null",
}).spawn();
const forward = () => child.kill("SIGINT");
Deno.addSignalListener("SIGINT", forward);
const status = await child.status;
Deno.removeSignalListener("SIGINT", forward);
await stop();
Deno.exit(status.code);
