import assert from "node:assert/strict";
import { driverGroup } from "../../driver/start_offsets.ts";
import { groupFor, networkClaimNames } from "../../shared/kafka/topics.ts";
import { allowed, networkGrants, networkTopics } from "./acls.ts";

for (const prefix of ["", "t1_"]) {
  const grants = networkGrants(prefix);
  const t = networkTopics(prefix);
  const may = (role: "central" | "engine" | "driver", topic: string, op: "Read" | "Write") =>
    allowed(grants, role, "topic", topic, op);

  Deno.test(`ACLs (prefix "${prefix}"): each role writes only its own topic`, () => {
    assert.ok(may("driver", t.requests, "Write"));
    assert.ok(!may("driver", t.telemetry, "Write"), "a driver cannot forge telemetry");
    assert.ok(!may("driver", t.control, "Write"), "a driver cannot forge Central's orders");
    assert.ok(may("engine", t.telemetry, "Write"));
    assert.ok(!may("engine", t.requests, "Write"));
    assert.ok(!may("engine", t.control, "Write"));
    assert.ok(may("central", t.control, "Write"));
    assert.ok(may("central", t.claim, "Write"));
    assert.ok(!may("central", t.requests, "Write"));
    assert.ok(!may("central", t.telemetry, "Write"));
  });

  Deno.test(`ACLs (prefix "${prefix}"): each role reads what it needs, and no more`, () => {
    assert.ok(may("central", t.requests, "Read") && may("central", t.telemetry, "Read"));
    assert.ok(may("engine", t.control, "Read"));
    assert.ok(!may("engine", t.requests, "Read"), "an engine does not see drivers' requests");
    assert.ok(may("driver", t.control, "Read") && may("driver", t.telemetry, "Read"));
    assert.ok(!may("driver", t.requests, "Read"), "a driver does not see others' requests");
    // ensureTopics describes the topics each program uses before it starts.
    const uses = {
      central: [t.requests, t.telemetry, t.control, t.claim],
      engine: [t.control, t.telemetry],
      driver: [t.requests, t.control, t.telemetry],
    };
    for (const [role, topics] of Object.entries(uses)) {
      for (const topic of topics) {
        assert.ok(
          allowed(grants, role as "central", "topic", topic, "Describe"),
          `${role} ${topic}`,
        );
      }
    }
    assert.ok(!allowed(grants, "engine", "topic", t.requests, "Describe"));
  });

  Deno.test(`ACLs (prefix "${prefix}"): the groups and transactional ids the programs use`, () => {
    const central = ["ev-central-requests", "ev-central-telemetry"].map((base, i) =>
      groupFor(base, i === 0 ? t.requests : t.telemetry)
    );
    for (const g of central) assert.ok(allowed(grants, "central", "group", g, "Read"), g);
    const engine = groupFor("ev-engine-CP-01", t.control);
    assert.ok(allowed(grants, "engine", "group", engine, "Read"));
    assert.ok(!allowed(grants, "engine", "group", central[0], "Read"));
    for (const g of [driverGroup("D-1", t.control), `ev-driver-D-1-${crypto.randomUUID()}`]) {
      assert.ok(allowed(grants, "driver", "group", g, "Read"), g);
      assert.ok(!allowed(grants, "engine", "group", g, "Read"), g);
    }
    const txn = networkClaimNames(t).transactionalId;
    for (const id of [txn, `${txn}.1`]) {
      assert.ok(allowed(grants, "central", "transactional-id", id, "Write"), id);
      assert.ok(!allowed(grants, "driver", "transactional-id", id, "Write"), id);
    }
  });
}

Deno.test("one network's ACLs say nothing of another's topics", () => {
  const a = networkGrants("a_");
  const b = networkTopics("b_");
  assert.ok(!allowed(a, "driver", "topic", b.requests, "Write"));
  assert.ok(!allowed(a, "central", "topic", b.requests, "Read"));
});
