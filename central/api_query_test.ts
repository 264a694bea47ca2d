import assert from "node:assert/strict";
import { ApiError, parseCommandBody, parseHistoryQuery } from "./api_query.ts";

const q = (s: string) => parseHistoryQuery(new URLSearchParams(s), ["cp", "driver", "status"]);

Deno.test("history filters: ids, status, times (ms or ISO) and pages", () => {
  assert.deepEqual(q("cp=CP-01&status=ENDED&limit=5&offset=10"), {
    cp: "CP-01",
    status: "ENDED",
    limit: 5,
    offset: 10,
  });
  assert.deepEqual(q("from=1800000000000&to=2027-01-01T00:00:00Z"), {
    from: 1_800_000_000_000,
    to: Date.parse("2027-01-01T00:00:00Z"),
  });
});

Deno.test("bad filters are 400s that say what is expected", () => {
  for (
    const [query, re] of [
      ["status=done", /status must be RUNNING/],
      ["limit=5000", /limit must be a whole number from 1 to 1000/],
      ["limit=0", /limit must be a whole number from 1 to 1000, got "0"/],
      ["offset=x", /offset must be a whole number from 0/],
      ["offset=-2", /offset must be/],
      ["to=soon", /to must be a time/],
      ["cp=a%20b", /cp must be an id/],
      ["kind=x", /unknown filter "kind"/],
    ] as const
  ) {
    assert.throws(
      () => q(query),
      (e) => e instanceof ApiError && e.status === 400 && re.test(e.message),
    );
  }
});

Deno.test("command bodies", () => {
  assert.deepEqual(parseCommandBody('{"command":"PARAR","cp_id":"all"}'), {
    command: "PARAR",
    cp_id: "all",
  });
  for (
    const body of [
      "",
      "[]",
      '{"command":"PARAR"}',
      '{"command":"x","cp_id":"CP-1"}',
      '{"command":"PARAR","cp_id":"a b"}',
    ]
  ) {
    assert.throws(() => parseCommandBody(body), ApiError, body);
  }
});
