/**
 * Where an engine given no pairing secret leaves the one it made, for the monitor on its PC: a
 * file only its user may read, `~/.evcharging/pairing/engine-<port>` (the user profile on
 * Windows; EV_PAIRING_DIR names another directory). A monitor given no secret reads the file of its engine's port. So the spec's
 * commands pair a monitor with the engine on its PC with nothing more to type, and a stranger
 * — another user, another PC — has no secret to claim the engine with.
 *
 * @module
 */
import { join } from "node:path";

/** The directory of pairing files: EV_PAIRING_DIR, or `.evcharging/pairing` in the user's home. */
export function pairingDir(): string {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
  return Deno.env.get("EV_PAIRING_DIR") ?? join(home, ".evcharging", "pairing");
}

/** The pairing file of the engine whose health port is `port`. */
export function pairingFilePath(port: number, dir = pairingDir()): string {
  return join(dir, `engine-${port}`);
}

/** Writes `secret` where the monitor on this PC finds it; returns the path. */
export async function writePairingFile(
  port: number,
  secret: string,
  dir = pairingDir(),
): Promise<string> {
  const path = pairingFilePath(port, dir);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  // Written aside and renamed: a monitor never reads half a secret.
  const aside = `${path}.${crypto.randomUUID()}`;
  await Deno.writeTextFile(aside, secret + "\n", { mode: 0o600 });
  await Deno.rename(aside, path);
  return path;
}

/** The secret in the pairing file of `port`, or undefined when there is none. */
export async function readPairingFile(
  port: number,
  dir = pairingDir(),
): Promise<string | undefined> {
  try {
    const text = (await Deno.readTextFile(pairingFilePath(port, dir))).trim();
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  }
}
