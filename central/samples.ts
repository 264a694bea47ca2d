/**
 * A fixed-size ring of recent measurements (milliseconds) with percentiles, for metrics
 * whose memory must not grow with the message rate.
 *
 * @module
 */

/** Recent samples and their percentiles. */
export class Samples {
  readonly #ring: number[];
  #count = 0;

  constructor(readonly size = 20_000) {
    this.#ring = new Array(size).fill(0);
  }

  /** Adds one measurement. */
  add(ms: number): void {
    this.#ring[this.#count++ % this.size] = ms;
  }

  /** Forgets everything. */
  reset(): void {
    this.#count = 0;
  }

  /** p50, p99 and max of what is kept (0 when empty). */
  summary(): { p50: number; p99: number; max: number } {
    const s = this.#ring.slice(0, Math.min(this.#count, this.size)).sort((a, b) => a - b);
    const at = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : 0);
    return { p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? 0 };
  }
}
