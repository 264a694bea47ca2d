import assert from "node:assert/strict";
import { KEY_SUPPLY_S, localOrder } from "./local_command.ts";

Deno.test("local commands: parar and activar", () => {
  assert.deepEqual(localOrder("parar", ""), { message: { type: "PARAR" } });
  assert.deepEqual(localOrder("activar", ""), { message: { type: "ACTIVAR" } });
});

Deno.test("local commands: suministrar takes seconds, or the key's default", () => {
  assert.deepEqual(localOrder("suministrar", "30"), {
    message: { type: "SUMINISTRAR", duration_s: 30 },
  });
  assert.deepEqual(localOrder("suministrar", ""), {
    message: { type: "SUMINISTRAR", duration_s: KEY_SUPPLY_S },
  });
  assert.deepEqual(localOrder("suministrar", "86400"), {
    message: { type: "SUMINISTRAR", duration_s: 86_400 },
  });
});

Deno.test("local commands: a duration that is not 1 to 86400 seconds is refused", () => {
  for (const bad of ["0", "86401", "-5", "ten", "Infinity", "1 2"]) {
    assert.deepEqual(localOrder("suministrar", bad), {
      error: `suministrar needs a duration in seconds (1-86400), got "${bad}"`,
    });
  }
});
