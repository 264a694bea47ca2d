import assert from "node:assert/strict";
import { join } from "node:path";
import { CentralDb } from "./db.ts";
import {
  acquire,
  canTake,
  holderGone,
  holderName,
  keepRenewing,
  Lease,
  LeaseLost,
  lostReason,
  processRuns,
} from "./lease.ts";
import { eventually } from "../shared/process/eventually.ts";

/** Two Centrals' databases: two connections to one file, as two processes have. */
async function twoCentrals() {
  const dir = await Deno.makeTempDir({ prefix: "ev-lease-" });
  const path = join(dir, "central.db");
  const a = new CentralDb(path);
  const b = new CentralDb(path);
  return {
    a,
    b,
    async close() {
      a.close();
      b.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** One write transaction of Central: an event row. */
function writeEvent(db: CentralDb, detail: string): void {
  db.apply([{ kind: "event", event: { at: 1, kind: "test", detail } }], 1);
}

const events = (db: CentralDb) =>
  (db.connection.prepare("SELECT detail FROM events ORDER BY id").all() as { detail: string }[])
    .map((r) => r.detail);

Deno.test("canTake: no lease, or an expired one", () => {
  assert.equal(canTake(undefined, 10), true);
  assert.equal(canTake({ holder: "x", epoch: 1, expires_at: 10 }, 10), true);
  assert.equal(canTake({ holder: "x", epoch: 1, expires_at: 11 }, 10), false);
});

Deno.test("canTake: a live lease whose holder is gone", () => {
  const row = { holder: "x", epoch: 1, expires_at: 11 };
  assert.equal(canTake(row, 10, (h) => h === "x"), true);
  assert.equal(canTake(row, 10, () => false), false);
});

Deno.test("holderGone: only a process of this machine that no longer runs", () => {
  const name = holderName("pc2", 4321);
  assert.match(name, /^pc2 pid 4321 \([0-9a-f]{8}\)$/);
  const ended = (pid: number) => pid !== 4321;
  assert.equal(holderGone(name, "pc2", ended), true);
  assert.equal(holderGone(name, "pc2", () => true), false, "still runs");
  assert.equal(holderGone(name, "pc9", () => false), false, "another machine: cannot tell");
  assert.equal(holderGone("someone", "pc2", () => false), false, "not a name of ours");
});

Deno.test("processRuns: this process runs, an ended child does not", async () => {
  assert.equal(processRuns(Deno.pid), true);
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", ""], stdout: "null" }).spawn();
  await child.status;
  if (Deno.build.os === "linux") assert.equal(processRuns(child.pid), false);
});

Deno.test("lostReason: holder and epoch must both be ours", () => {
  const mine = { holder: "a", epoch: 2 };
  assert.equal(lostReason({ holder: "a", epoch: 2, expires_at: 0 }, mine), undefined);
  assert.match(lostReason({ holder: "b", epoch: 3, expires_at: 0 }, mine)!, /Central b took over/);
  // Our own name with a newer epoch: a restart of ours took it back; still not this run's.
  assert.ok(lostReason({ holder: "a", epoch: 3, expires_at: 0 }, mine));
  assert.ok(lostReason(undefined, mine));
});

Deno.test("the second Central waits while the lease is live and takes it with a new epoch once it expires", async () => {
  const t = await twoCentrals();
  try {
    const a = new Lease(t.a.connection, "A");
    const b = new Lease(t.b.connection, "B");
    assert.equal(a.tryAcquire(1000), undefined);
    assert.equal(a.epoch, 1);
    assert.deepEqual({ ...b.tryAcquire(1000)! }, { holder: "A", epoch: 1, expires_at: 4000 });
    a.renew(3000); // now until 6000
    assert.equal(b.tryAcquire(5999)?.holder, "A");
    assert.equal(b.tryAcquire(6000), undefined);
    assert.equal(b.epoch, 2);
    assert.throws(() => a.renew(6001), LeaseLost);
    assert.throws(
      () => a.fence(),
      /Central B took over the database \(lease epoch 2, ours was 1\)/,
    );
  } finally {
    await t.close();
  }
});

Deno.test("the fence: a Central whose lease was taken writes nothing, its successor writes", async () => {
  const t = await twoCentrals();
  try {
    const a = new Lease(t.a.connection, "A");
    const b = new Lease(t.b.connection, "B");
    t.a.fence = () => a.fence();
    t.b.fence = () => b.fence();
    assert.throws(() => writeEvent(t.a, "before taking"), LeaseLost, "no lease, no write");
    a.tryAcquire(1000);
    writeEvent(t.a, "A while active");
    // Expired but not taken: A's write is still ordered before any takeover, so it stands.
    a.renew(0);
    writeEvent(t.a, "A expired, not taken");
    assert.equal(b.tryAcquire(Date.now()), undefined);
    writeEvent(t.b, "B active");
    assert.throws(() => writeEvent(t.a, "A after takeover"), LeaseLost);
    assert.throws(() => t.a.sent(["x"]), LeaseLost, "every write path is fenced");
    assert.deepEqual(events(t.b), ["A while active", "A expired, not taken", "B active"]);
  } finally {
    await t.close();
  }
});

Deno.test("a dead holder's live lease is taken at once, with a new epoch", async () => {
  const t = await twoCentrals();
  try {
    const a = new Lease(t.a.connection, "A");
    const b = new Lease(t.b.connection, "B", 3000, (h) => h === "A");
    const now = Date.now();
    a.tryAcquire(now);
    assert.equal(b.tryAcquire(now), undefined);
    assert.equal(b.epoch, 2);
    assert.throws(() => a.fence(), LeaseLost);
    // B itself is alive: a third Central waits.
    const c = new Lease(t.a.connection, "C", 3000, (h) => h === "A");
    assert.equal(c.tryAcquire(now)?.holder, "B");
  } finally {
    await t.close();
  }
});

Deno.test("a released lease is taken at once; a lost one is not released", async () => {
  const t = await twoCentrals();
  try {
    const a = new Lease(t.a.connection, "A");
    const b = new Lease(t.b.connection, "B");
    const now = Date.now();
    a.tryAcquire(now);
    assert.equal(b.tryAcquire(now)?.holder, "A");
    a.release();
    assert.equal(b.tryAcquire(now), undefined);
    a.release(); // no longer ours: B's lease stays
    assert.equal(b.current()?.holder, "B");
    assert.ok(b.current()!.expires_at > now);
  } finally {
    await t.close();
  }
});

Deno.test("acquire tells the standby once and returns when the lease is free", async () => {
  const t = await twoCentrals();
  try {
    const a = new Lease(t.a.connection, "A");
    const b = new Lease(t.b.connection, "B");
    a.tryAcquire();
    const told: string[] = [];
    const waiting = acquire(b, (h) => told.push(h), undefined, 10);
    await eventually("B polled a few times", () => told.length === 1, 1000);
    await new Promise((r) => setTimeout(r, 50));
    a.release();
    await waiting;
    assert.deepEqual(told, ["A"]);
    assert.equal(b.epoch, 2);
  } finally {
    await t.close();
  }
});

Deno.test("acquire stops waiting when its signal aborts", async () => {
  const t = await twoCentrals();
  try {
    new Lease(t.a.connection, "A").tryAcquire();
    const stop = new AbortController();
    const waiting = acquire(new Lease(t.b.connection, "B"), () => stop.abort(), stop.signal, 10);
    await assert.rejects(waiting);
  } finally {
    await t.close();
  }
});

Deno.test("keepRenewing reports a lost lease once and stops", async () => {
  const t = await twoCentrals();
  try {
    const a = new Lease(t.a.connection, "A", 20);
    const b = new Lease(t.b.connection, "B", 20);
    a.tryAcquire();
    const lost: string[] = [];
    const stop = keepRenewing(a, (why) => lost.push(why), () => {}, 5);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(b.tryAcquire()?.holder, "A", "renewed: still A's");
    stop();
    await eventually("A's lease expires", () => b.tryAcquire() === undefined, 1000);
    keepRenewing(a, (why) => lost.push(why), () => {}, 5);
    await eventually("A finds it lost", () => lost.length === 1, 1000);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(lost.length, 1);
    assert.match(lost[0], /Central B took over/);
  } finally {
    await t.close();
  }
});
