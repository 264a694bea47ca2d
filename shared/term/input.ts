/**
 * Operator input for the interactive programs: single key presses on a terminal (cbreak
 * mode, so Ctrl+C stays a signal), or whole lines when stdin is a pipe, so tests and
 * scripts can drive a program with the same commands.
 *
 * @module
 */

/** Maps a key (terminal) or a word (pipe) to a command name. */
export type Bindings = Record<string, string>;

/**
 * Calls `onCommand` for every recognised input until stdin closes. On a terminal each key in
 * `keys` fires at once; on a pipe each line is looked up in `words` (and in `keys`). Lines
 * that match nothing go to `onText` when given (e.g. a typed CP id).
 */
export async function readCommands(
  keys: Bindings,
  words: Bindings,
  onCommand: (command: string, argument: string) => void,
  onText?: (text: string) => void,
): Promise<void> {
  const tty = Deno.stdin.isTerminal();
  if (tty) Deno.stdin.setRaw(true, { cbreak: true });
  try {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of Deno.stdin.readable) {
      const text = decoder.decode(chunk, { stream: true });
      if (tty) {
        for (const ch of text) if (keys[ch.toLowerCase()]) onCommand(keys[ch.toLowerCase()], "");
        continue;
      }
      pending += text;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line === "") continue;
        const [word, ...rest] = line.split(/\s+/);
        const command = words[word.toLowerCase()] ?? keys[word.toLowerCase()];
        if (command) onCommand(command, rest.join(" "));
        else onText?.(line);
      }
    }
  } catch {
    // stdin closed or unavailable: no more input
  } finally {
    restoreTerminal();
  }
}

/** Leaves cbreak mode; safe to call at any time (also from a signal handler). */
export function restoreTerminal(): void {
  try {
    if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(false);
  } catch {
    // not a terminal any more
  }
}

/**
 * Reads whole command lines: on a terminal it edits the line itself (cbreak mode: Enter runs
 * it, Backspace deletes, Esc clears) and reports each edit through `onEdit` so a full-screen
 * view can draw the prompt; on a pipe it reads lines as they come.
 */
export async function readLines(
  onLine: (line: string) => void,
  onEdit: (buffer: string) => void = () => {},
): Promise<void> {
  const tty = Deno.stdin.isTerminal();
  if (tty) Deno.stdin.setRaw(true, { cbreak: true });
  try {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of Deno.stdin.readable) {
      for (const ch of decoder.decode(chunk, { stream: true })) {
        if (ch === "\r" || ch === "\n") {
          const line = buffer.trim();
          buffer = "";
          if (line) onLine(line);
        } else if (ch === "\x7f" || ch === "\b") {
          buffer = buffer.slice(0, -1);
        } else if (ch === "\x1b") {
          buffer = "";
        } else if (ch >= " " && buffer.length < 200) {
          buffer += ch;
        }
        if (tty) onEdit(buffer);
      }
    }
  } catch {
    // stdin closed or unavailable: no more input
  } finally {
    restoreTerminal();
  }
}

/** Lines typed on stdin (a terminal in its normal, echoing mode, or a pipe), trimmed. */
export function stdinLines(): AsyncGenerator<string> {
  return lines(Deno.stdin.readable);
}

/** The lines of a byte stream (stdin, a child's stdout), trimmed, until it ends or fails. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for await (const chunk of stream) {
      pending += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        yield pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
      }
    }
  } catch {
    // stdin closed or unavailable
  }
  if (pending.trim()) yield pending.trim();
}
