/**
 * How many files this process may open, where the system says (Linux's /proc).
 *
 * @module
 */

/** The soft "Max open files" limit in the text of /proc/self/limits; undefined if unlimited. */
export function parseOpenFilesLimit(limits: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
}

/** This process's limit of open files, or undefined when unknown (not Linux) or unlimited. */
export function openFilesLimit(): number | undefined {
  try {
    return parseOpenFilesLimit(Deno.readTextFileSync("/proc/self/limits"));
  } catch {
    return undefined;
  }
}
