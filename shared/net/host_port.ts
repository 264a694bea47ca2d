/**
 * Addresses of other machines as the programs take and show them: `host:port`, IPv6 in
 * brackets (`[::1]:9092`).
 *
 * @module
 */

/** A host and port. */
export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d+)$/;

/** Splits `host:port` text, or undefined when it does not have that shape (port unchecked). */
export function splitHostPort(text: string): { host: string; port: string } | undefined {
  const m = HOST_PORT.exec(text);
  return m ? { host: m[1].replace(/^\[|\]$/g, ""), port: m[2] } : undefined;
}

/** `host:port`, with an IPv6 host in brackets, as a user would type it back. */
export function hostPortText(a: HostPort): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
