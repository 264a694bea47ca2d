/**
 * Where the driver's CP ids come from: one `--cp`, a requests file, or — when no file is
 * named and there is no requests.txt here — a prompt on stdin.
 *
 * @module
 */
import { errorText } from "../shared/process/log.ts";
import { ID_PATTERN } from "../shared/protocol/validate.ts";
import { stdinLines } from "../shared/term/input.ts";
import { parseRequestsFile } from "./requests_file.ts";

/** The requests file read when none is named. */
export const DEFAULT_FILE = "requests.txt";

/** The CP ids to charge at, in order, and where they come from (for the log). */
export interface RequestSource {
  ids: Iterable<string> | AsyncIterable<string>;
  describe: string;
}

/** What the command line asked for. */
export interface SourceChoice {
  cp?: string;
  file?: string;
}

/** How the source is read; the real file system and stdin by default. */
export interface SourceInput {
  readTextFile(path: string): Promise<string>;
  /** The ids typed at a prompt shown on `screen`. */
  prompt(screen: PromptScreen): AsyncIterable<string>;
}

/**
 * Where the prompt shows: the question before each line, a complaint about a line, and the
 * moment a line was typed (the question is answered and leaves the live line).
 */
export interface PromptScreen {
  ask(question: string): void;
  say(line: string): void;
  answered(): void;
}

const realInput: SourceInput = {
  readTextFile: (path) => Deno.readTextFile(path),
  prompt: (screen) => prompted(stdinLines(), screen),
};

/**
 * The source `choice` names, or the errors (one line each, without the program's name)
 * that keep the driver from starting.
 */
export async function requestSource(
  choice: SourceChoice,
  screen: PromptScreen,
  input: SourceInput = realInput,
): Promise<RequestSource | { errors: string[] }> {
  if (choice.cp) return { ids: [choice.cp], describe: `--cp ${choice.cp}` };
  const path = choice.file ?? DEFAULT_FILE;
  let text: string;
  try {
    text = await input.readTextFile(path);
  } catch (e) {
    // Only the default file may be absent: a file named on the command line is expected.
    if (choice.file === undefined && e instanceof Deno.errors.NotFound) {
      return { ids: input.prompt(screen), describe: `the prompt (no ${DEFAULT_FILE} here)` };
    }
    return { errors: [`cannot read requests file "${path}": ${errorText(e)}`] };
  }
  const { ids, errors } = parseRequestsFile(text);
  if (errors.length) return { errors: errors.map((e) => `${path}:${e.line}: ${e.message}`) };
  return { ids, describe: `${ids.length} request(s) from ${path}` };
}

/** The question of the prompt. */
export const QUESTION = "CP id to charge at (Enter on an empty line or Ctrl+D to finish): ";

/**
 * The CP ids typed at the prompt, until an empty line or the end of input; a line that is
 * not an id gets a complaint. The question is asked before each line: the first, and each
 * one after the charge of the id before.
 */
export async function* prompted(
  lines: AsyncIterable<string>,
  screen: PromptScreen,
): AsyncGenerator<string> {
  screen.ask(QUESTION);
  try {
    for await (const line of lines) {
      screen.answered();
      if (line === "") return;
      if (ID_PATTERN.test(line)) yield line;
      else screen.say(`"${line.slice(0, 40)}" is not a CP id`);
      screen.ask(QUESTION);
    }
  } finally {
    screen.answered(); // Ctrl+D or Ctrl+C: no question is left asking
  }
}
