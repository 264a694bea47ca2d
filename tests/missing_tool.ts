/**
 * A test whose system package is missing fails, never skips, and says how to get it: through
 * scripts/test-tools.sh, which holds the list (`deno task test` runs it first).
 *
 * @module
 */

/** The error of a test that cannot run because `pkg` (a Debian package) is missing. */
export function missingTool(what: string, pkg: string): Error {
  return new Error(
    `${what}: run "bash scripts/test-tools.sh" (as root: apt-get install -y ${pkg})`,
  );
}
