/**
 * The PEM files of the TLS options (`--tls-cert`, `--tls-key`, `--tls-ca`), read when the
 * command line is: a missing file or one that is not PEM is a one-line usage error, not a
 * failed handshake later.
 *
 * @module
 */
import { UsageError } from "../process/cli.ts";

/** What a PEM file must hold: a certificate, or a private key. */
export type PemKind = "certificate" | "private key";

/** The text of the PEM file at `path`, given as `option`; throws UsageError otherwise. */
export function readPemFile(path: string, option: string, kind: PemKind): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new UsageError(`${option} ${path}: ${why}`);
  }
  const label = kind === "certificate"
    ? /-----BEGIN CERTIFICATE-----/
    : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (!label.test(text)) throw new UsageError(`${option} ${path}: not a PEM ${kind}`);
  return text;
}
