/**
 * `deno task compile [host|linux|windows|macos|all]`: builds EV_Central, EV_CP_M, EV_CP_E
 * and EV_Driver into dist/ with `deno compile`, each with only the permissions it needs
 * (schema.sql is embedded as a text import).
 *
 * `deno compile` downloads the Deno runtime (denort) for each target the first time. Without
 * internet access that download fails; this script then says so in one clear line.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PROGRAMS } from "./programs.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const TARGETS: Record<string, string[]> = {
  linux: ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"],
  windows: ["x86_64-pc-windows-msvc"],
  macos: ["x86_64-apple-darwin", "aarch64-apple-darwin"],
};
TARGETS.all = [...TARGETS.linux, ...TARGETS.windows, ...TARGETS.macos];

const which = Deno.args[0] ?? "host";
if (which !== "host" && !TARGETS[which]) {
  console.error(`compile: error: unknown target set "${which}" (host, linux, windows, macos, all)`);
  Deno.exit(2);
}
const targets = which === "host" ? [undefined] : TARGETS[which];

for (const target of targets) {
  const outDir = target ? join(ROOT, "dist", target) : join(ROOT, "dist");
  for (const p of Object.values(PROGRAMS)) {
    const output = join(outDir, p.binary);
    const args = [
      "compile",
      "--quiet",
      ...p.flags,
      ...("include" in p ? p.include.flatMap((m) => ["--include", join(ROOT, m)]) : []),
      ...(target ? ["--target", target] : []),
      "--output",
      output,
      join(ROOT, p.entry),
    ];
    const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
      .output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr);
      if (/denort|dl\.deno\.land|error sending request/.test(text)) {
        console.error(
          `compile: error: deno compile must download the Deno runtime (denort) for ` +
            `${target ?? Deno.build.target} from dl.deno.land, and this machine cannot reach it. ` +
            `Run "deno task compile" on a machine with internet access (the binaries it builds ` +
            `run offline), or point DENORT_BIN at a denort binary of Deno ${Deno.version.deno}.`,
        );
      } else {
        console.error(`compile: error: building ${p.binary} failed:\n${text}`);
      }
      Deno.exit(1);
    }
    console.log(`built ${output}${target?.includes("windows") ? ".exe" : ""}`);
  }
}
