/**
 * The driver's requests file: one CP id per line; blank lines and `#` comments are skipped.
 *
 * @module
 */
import { ID_PATTERN } from "../shared/protocol/validate.ts";

/** A problem on one line of the file. */
export interface LineError {
  line: number;
  message: string;
}

/** Parses the file's text into CP ids, or the lines that are wrong. */
export function parseRequestsFile(text: string): { ids: string[]; errors: LineError[] } {
  const ids: string[] = [];
  const errors: LineError[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    if (ID_PATTERN.test(line)) ids.push(line);
    else errors.push({ line: i + 1, message: `"${line.slice(0, 40)}" is not a valid CP id` });
  });
  return { ids, errors };
}
