/**
 * The demo's Kafka broker: the one given with `--kafka`, or one already answering on the
 * demo's port, or one it starts (Docker compose when a Docker engine answers and the port is
 * compose's, else the local broker from Maven Central).
 *
 * @module
 */
import { join } from "node:path";
import { answers, startBroker } from "./broker.ts";
import { DEFAULT_KAFKA_PORT, type DemoConfig } from "./demo_options.ts";
import { ROOT } from "./demo_process.ts";

/** Makes sure a broker answers at `config.kafka`; resolves with how to stop what it started. */
export async function demoBroker(
  config: DemoConfig,
  dataDir: string,
  say: (line: string) => void,
): Promise<() => Promise<void>> {
  const none = async () => {};
  if (await answers(config.kafka)) {
    say(`Using the Kafka broker already running at ${config.kafka}`);
    return none;
  }
  if (!config.startBroker) throw new Error(`no Kafka broker answers at ${config.kafka}`);
  const compose = ["compose", "-f", join(ROOT, "compose.yaml")];
  // compose.yaml publishes Kafka on 9092 only.
  if (config.kafkaPort === DEFAULT_KAFKA_PORT && await succeeds("docker", ["info"])) {
    say("Starting Kafka with Docker compose …");
    const up = await new Deno.Command("docker", {
      args: [...compose, "up", "-d", "--wait"],
      env: { KAFKA_ADVERTISED_HOST: "127.0.0.1" },
    }).output();
    if (!up.success) throw new Error("docker compose could not start Kafka");
    return async () =>
      void await new Deno.Command("docker", { args: [...compose, "down"] }).output();
  }
  say(`Starting a local Kafka broker at ${config.kafka} (no Docker engine for it here) …`);
  const broker = await startBroker({ port: config.kafkaPort, dataDir });
  say(`  started the Kafka broker (pid ${broker.pid})`);
  return () => broker.stop();
}

async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false; // not installed
  }
}
