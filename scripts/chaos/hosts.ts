/**
 * Hosts for a real multi-PC run on one machine: a network namespace per PC, each with its own
 * loopback and one cable (a veth pair) to a bridge that lives in a namespace of its own, all
 * addressed 10.77.0.x. The machine's own network is never touched. Needs root and iproute2.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BROKER_SCRIPT = fileURLToPath(new URL("../broker.ts", import.meta.url));

/** Runs `ip` with `args`; throws with its error output when it fails. */
export async function ip(...args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Why hosts cannot be made here (not root, no iproute2), or undefined when they can. */
export async function hostsUnavailable(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "network namespaces need root (run it as root)";
  const haveIp = await new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" })
    .output().then((o) => o.success, () => false);
  return haveIp ? undefined : "network namespaces need iproute2 (the ip command)";
}

/** Hosts on one bridge. */
export interface Hosts<N extends string> {
  bridge: string;
  /** Namespace of each host. */
  ns: Record<N, string>;
  /** Address of each host. */
  addr: Record<N, string>;
  /** The command prefix that runs a program on a host. */
  wrap(host: N): string[];
  /** Pulls (false) or plugs back (true) a host's cable, at the bridge's end. */
  cable(host: N, plugged: boolean): Promise<void>;
  /** Whether `host:port` accepts connections, tried from inside `from`'s namespace. */
  probeKafka(from: N, bootstrap: string): Promise<boolean>;
  /** Deletes every namespace (their links go with them). */
  cleanup(): Promise<void>;
}

/** Makes hosts `names` (10.77.0.1, .2, … in order) joined by a bridge; `tag` keeps names unique. */
export async function createHosts<N extends string>(
  names: readonly N[],
  tag: string,
): Promise<Hosts<N>> {
  // Names of their own, so that nobody mistakes them for the three-host test's (evpc1-…).
  const bridge = `evchaos-br-${tag}`;
  const ns = Object.fromEntries(names.map((n) => [n, `evchaos-${n}-${tag}`])) as Record<N, string>;
  const addr = Object.fromEntries(names.map((n, i) => [n, `10.77.0.${i + 1}`])) as Record<
    N,
    string
  >;
  const port = (host: N) => `p${names.indexOf(host) + 1}`;
  const cleanup = async () => {
    for (const name of [...Object.values<string>(ns), bridge]) {
      await ip("netns", "del", name).catch((e) =>
        console.error(`could not delete namespace ${name}: ${(e as Error).message}`)
      );
    }
  };
  try {
    await ip("netns", "add", bridge);
    await ip("-n", bridge, "link", "add", "br0", "type", "bridge");
    await ip("-n", bridge, "link", "set", "br0", "up");
    for (const name of names) {
      await ip("netns", "add", ns[name]);
      // Both ends are made in the bridge's namespace; one end then moves to the host.
      await ip(
        "-n",
        bridge,
        "link",
        "add",
        port(name),
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns[name],
      );
      await ip("-n", bridge, "link", "set", port(name), "master", "br0", "up");
      await ip("-n", ns[name], "addr", "add", `${addr[name]}/24`, "dev", "eth0");
      await ip("-n", ns[name], "link", "set", "eth0", "up");
      await ip("-n", ns[name], "link", "set", "lo", "up");
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  const wrap = (host: N) => ["ip", "netns", "exec", ns[host]];
  return {
    bridge,
    ns,
    addr,
    wrap,
    // The bridge's end: the host keeps its address and local routes, as when a cable is pulled
    // at the switch, so a program on it still reaches the others on the same host.
    cable: (host, plugged) => ip("-n", bridge, "link", "set", port(host), plugged ? "up" : "down"),
    probeKafka: async (from, bootstrap) => {
      const out = await new Deno.Command("ip", {
        args: [
          "netns",
          "exec",
          ns[from],
          Deno.execPath(),
          "run",
          "-A",
          BROKER_SCRIPT,
          "--probe",
          bootstrap,
        ],
        stdout: "null",
        stderr: "null",
        cwd: join(BROKER_SCRIPT, "..", ".."),
      }).output();
      return out.success;
    },
    cleanup,
  };
}
