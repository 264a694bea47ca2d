/**
 * Why a server could not listen, said the same way by every program.
 *
 * @module
 */
import { errorText } from "../process/log.ts";

/** The reason `Deno.listen`/`Deno.serve` failed on `host`, in the operator's words. */
export function listenErrorText(e: unknown, host: string): string {
  if (e instanceof Deno.errors.AddrInUse) return "port already in use";
  if (e instanceof Deno.errors.AddrNotAvailable) return `${host} is not an address of this machine`;
  return errorText(e);
}
