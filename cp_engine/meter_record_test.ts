import assert from "node:assert/strict";
import { join } from "node:path";
import { parseLine, type RecordLine, replay, serializeLine } from "./meter_record.ts";
import { RecordFile } from "./record_file.ts";

const at = 1_700_000_000_000;
const lines: RecordLine[] = [
  { kind: "start", session_id: "s1", cp_id: "CP-01", driver_id: "D1", price_eur_kwh: 0.4, at },
  { kind: "meter", session_id: "s1", consumo_kwh: 0.014, seq: 1, at: at + 1000 },
  { kind: "meter", session_id: "s1", consumo_kwh: 0.028, seq: 2, at: at + 2000 },
  {
    kind: "end",
    session_id: "s2",
    cp_id: "CP-01",
    driver_id: "unknown",
    consumo_kwh: 0,
    importe_eur: 0,
    reason: "NOT_SUPPLIED",
    ended_at: at + 2500,
  },
  { kind: "acked", session_id: "s2", at: at + 2600 },
];
const text = lines.map(serializeLine).join("");

Deno.test("record: every kind of line reads back as written, one JSON object a line", () => {
  assert.equal(text.split("\n").length, lines.length + 1);
  assert.deepEqual(text.trimEnd().split("\n").map(parseLine), lines);
});

Deno.test("record: a bad line is refused with a reason", () => {
  assert.throws(() => parseLine(`{"kind":"meter","session_id":"s1"}`), /consumo_kwh/);
  assert.throws(() => parseLine(`{"kind":"refund"}`), /unknown record kind "refund"/);
  assert.throws(() => parseLine(`[1]`), /unknown record kind/);
  assert.throws(() => parseLine(`{"kind":"toString"}`), /unknown record kind "toString"/);
});

Deno.test("record: replay gives each session's start, last meter, end and ack", () => {
  const r = replay(text);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.sessions.get("s1"), { start: lines[0], lastMeter: lines[2], acked: false });
  assert.deepEqual(r.sessions.get("s2"), { end: lines[3], acked: true });
  assert.equal(r.lastAt, at + 2600);
});

Deno.test("record: a torn last line (crash mid-write) is ignored with a warning", () => {
  const torn = text + serializeLine(lines[2]).slice(0, 25);
  const r = replay(torn);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /^line 6: .*torn last line.*; ignored$/);
  assert.deepEqual(r.sessions.get("s1")?.lastMeter, lines[2]);
  assert.deepEqual(replay("").sessions.size, 0);
});

Deno.test("record file: appends are durable and a torn tail does not spoil the next line", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "engine.jsonl");
  try {
    const first = RecordFile.open(path);
    assert.equal(first.replay.sessions.size, 0);
    first.file.append(lines.slice(0, 2));
    first.file.close();
    await Deno.writeTextFile(path, `{"kind":"meter","sess`, { append: true });
    const second = RecordFile.open(path);
    assert.equal(second.replay.warnings.length, 1);
    second.file.append([lines[2]]);
    second.file.close();
    const third = RecordFile.open(path);
    third.file.close();
    assert.equal(third.replay.warnings.length, 1, "still only the torn line");
    assert.deepEqual(third.replay.sessions.get("s1")?.lastMeter, lines[2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
