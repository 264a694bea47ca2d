/**
 * Terminal colors through `node:util` styleText, which leaves text plain when NO_COLOR is
 * set or the stream is not a terminal (jsr:@std/fmt is out of reach).
 *
 * @module
 */
import process from "node:process";
import { styleText } from "node:util";

/** Colors the programs use. */
export type Color = "green" | "red" | "yellow" | "gray" | "cyan" | "bold" | "dim" | "orange";

/** Colors `text` for `stream` when that stream shows colors. */
export function paint(color: Color, text: string, stream: "stdout" | "stderr" = "stdout"): string {
  if (color === "orange") return orange(text, stream);
  return styleText(color, text, { stream: process[stream] });
}

/** Whether `stream` should get ANSI colors. */
export function colorsOn(stream: "stdout" | "stderr" = "stdout"): boolean {
  return styleText("red", "x", { stream: process[stream] }) !== "x";
}

// ANSI has no named orange; the 256-color palette's 208 is the usual one.
function orange(text: string, stream: "stdout" | "stderr"): string {
  return colorsOn(stream) ? `\x1b[38;5;208m${text}\x1b[39m` : text;
}
