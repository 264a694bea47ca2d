/**
 * Imported for its effect: kafkajs arms a timer with a negative delay on connect, which
 * Deno's timers report as a TimeoutNegativeWarning on stderr at every start. The timer fires
 * at once, as kafkajs means, so only that warning is silenced.
 *
 * @module
 */
import process from "node:process";

const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = warning instanceof Error
    ? warning.name
    : (rest[0] as { type?: string })?.type ?? rest[0];
  if (type === "TimeoutNegativeWarning") return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
