/**
 * Issue 6: a real three-host run. Three network namespaces (PC1 drivers, PC2 broker and
 * Central, PC3 two charging points) joined by a bridge that lives in a fourth namespace, all
 * addressed by IP. The machine's own network is never touched: every link and address is
 * created inside the namespaces, and the test hosts' addresses are used only from inside them.
 *
 * Needs root and iproute2; elsewhere it is skipped with a message.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startBroker } from "../scripts/broker.ts";
import { E2E, query, ROOT, Scenario, ticketOf } from "./harness.ts";

const isRoot = Deno.uid() === 0;
const haveIp = await new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);
if (!isRoot || !haveIp) {
  console.error("three-host test skipped: it needs root and iproute2 (ip netns)");
}

async function ip(...args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Whether a TCP connection from namespace `ns` to `host:port` is accepted. */
async function acceptsFrom(ns: string, host: string, port: number): Promise<boolean> {
  const code = `await Deno.connect({ hostname: "${host}", port: ${port} }).then(
    (c) => { c.close(); Deno.exit(0); },
    (e) => Deno.exit(e instanceof Deno.errors.ConnectionRefused ? 1 : 2),
  );`;
  const out = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, Deno.execPath(), "eval", code],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (out.code === 0 || out.code === 1) return out.code === 0;
  throw new Error(`connect ${host}:${port} from ${ns}: ${new TextDecoder().decode(out.stderr)}`);
}

/** Three hosts on a bridge, each with its own namespace, loopback and 10.77.x address. */
async function createHosts(tag: string) {
  const bridge = `evbr-${tag}`;
  const hosts = { pc1: `evpc1-${tag}`, pc2: `evpc2-${tag}`, pc3: `evpc3-${tag}` };
  const addr = { pc1: "10.77.0.1", pc2: "10.77.0.2", pc3: "10.77.0.3" };
  const cleanup = async () => {
    for (const ns of [...Object.values(hosts), bridge]) {
      await ip("netns", "del", ns).catch(() => {});
    }
  };
  try {
    await ip("netns", "add", bridge);
    await ip("-n", bridge, "link", "add", "br0", "type", "bridge");
    await ip("-n", bridge, "link", "set", "br0", "up");
    for (const [i, [name, ns]] of Object.entries(hosts).entries()) {
      await ip("netns", "add", ns);
      // Both ends are created inside the bridge's namespace; one end then moves to the host.
      await ip(
        "-n",
        bridge,
        "link",
        "add",
        `p${i + 1}`,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns,
      );
      await ip("-n", bridge, "link", "set", `p${i + 1}`, "master", "br0", "up");
      await ip("-n", ns, "addr", "add", `${addr[name as keyof typeof addr]}/24`, "dev", "eth0");
      await ip("-n", ns, "link", "set", "eth0", "up");
      await ip("-n", ns, "link", "set", "lo", "up");
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  const wrap = (ns: string) => ["ip", "netns", "exec", ns];
  return { bridge, hosts, addr, cleanup, wrap };
}

Deno.test({
  name:
    "three hosts: happy path, busy denial and AVERIA by IP; cutting PC3 makes its CPs DESCONECTADO",
  ...E2E,
  ignore: !isRoot || !haveIp,
  fn: async () => {
    const net = await createHosts(crypto.randomUUID().slice(0, 4));
    const dir = await Deno.makeTempDir({ prefix: "ev-test-3pc-" });
    let stopBroker = async () => {};
    let s: Scenario | undefined;
    try {
      const { pc1, pc2, pc3 } = net.hosts;
      const ip2 = net.addr.pc2;
      const broker = await startBroker({
        port: 9092,
        controllerPort: 9093,
        dataDir: join(dir, "kafka"),
        listenHost: ip2,
        advertisedHost: ip2,
        wrap: net.wrap(pc2),
        probe: async (bootstrap) => {
          const out = await new Deno.Command("ip", {
            args: [
              "netns",
              "exec",
              pc2,
              Deno.execPath(),
              "run",
              "-A",
              join(ROOT, "scripts", "broker.ts"),
              "--probe",
              bootstrap,
            ],
            stdout: "null",
            stderr: "null",
          }).output();
          return out.success;
        },
      });
      stopBroker = () => broker.stop();
      s = new Scenario(broker.bootstrap, dir);
      const kafka = `${ip2}:9092`;
      const db = join(dir, "central.db");

      const central = s.spawn(
        "central",
        ["7000", kafka, db, "--http", "8080"],
        "central@PC2",
        net.wrap(pc2),
      );
      await central.waitFor(/listening for monitors on port 7000/, 60_000);
      for (const [i, cp] of ["CP-01", "CP-02"].entries()) {
        const port = String(7001 + i);
        const engine = s.spawn(
          "engine",
          // Long enough for a second driver to start while the first charges, whatever the
          // load; the first charge is ended by unplugging.
          [kafka, port, "--duration", "120"],
          `engine ${cp}@PC3`,
          net.wrap(pc3),
        );
        await engine.waitFor(/health checks on port/);
        s.spawn(
          "monitor",
          [`127.0.0.1:${port}`, `${ip2}:7000`, cp],
          `monitor ${cp}@PC3`,
          net.wrap(pc3),
        );
      }
      await central.waitFor(/STATE CP-01 ACTIVADO/);
      await central.waitFor(/STATE CP-02 ACTIVADO/);

      // PC3 needs nothing open: its engines answer only their monitors beside them, while
      // Central's ports on PC2 are open to the other PCs.
      assert.equal(await acceptsFrom(pc1, net.addr.pc3, 7001), false, "engine port from PC1");
      assert.equal(await acceptsFrom(pc1, ip2, 8080), true, "Central's HTTP API from PC1");
      assert.equal(await acceptsFrom(pc1, ip2, 7000), true, "Central's monitor port from PC1");

      // Happy path, and a second driver denied while the first charges.
      const d1 = s.spawn("driver", [kafka, "D1", "--cp", "CP-01"], "driver D1@PC1", net.wrap(pc1));
      await d1.waitFor(/^CHARGING CP-01/);
      const d2 = s.spawn("driver", [kafka, "D2", "--cp", "CP-01"], "driver D2@PC1", net.wrap(pc1));
      await d2.waitFor(/^DENIED at CP-01: another driver is charging at this point/);
      await s.procs.find((p) => p.name === "engine CP-01@PC3")!.type("unplug");
      const ticketLine = await d1.waitFor(/^TICKET CP-01: ENDED \(UNPLUGGED\)/);
      assert.equal((await d1.exit()).code, 0);
      assert.equal((await d2.exit()).code, 0);
      const ticket = ticketOf(ticketLine);
      const row = query(
        db,
        (d) => d.prepare("SELECT * FROM sessions WHERE driver_id = 'D1'").get(),
      )!;
      assert.equal(row.status, "ENDED");
      assert.equal(row.consumo_kwh, ticket.consumo_kwh);

      // AVERIA on PC3 reaches Central on PC2 over the monitor's TCP link.
      const engine2 = s.procs.find((p) => p.name === "engine CP-02@PC3")!;
      await engine2.type("ko");
      await central.waitFor(/STATE CP-02 AVERIADO/);

      // PC3 loses its network (no FIN reaches Central): heartbeats stop, both CPs go gray.
      const mark = central.mark();
      await ip("-n", net.bridge, "link", "set", "p3", "down");
      await central.waitFor(/STATE CP-01 DESCONECTADO/, 15_000, mark);
      await central.waitFor(/STATE CP-02 DESCONECTADO/, 15_000, mark);
      const lost = query(
        db,
        (d) => d.prepare("SELECT count(*) AS n FROM events WHERE kind = 'disconnected'").get(),
      )!;
      assert.equal(lost.n, 2);
    } catch (e) {
      if (s) console.error(s.report());
      throw e;
    } finally {
      await s?.stopAll();
      await stopBroker();
      await net.cleanup();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
