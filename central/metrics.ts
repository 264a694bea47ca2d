/**
 * What Central measures about itself, for `GET /metrics` and the bench: message counters,
 * delay percentiles over fixed-size rings, how late its event loop runs, and its memory.
 * Nothing here decides anything.
 *
 * @module
 */

/** A fixed-size ring of recent measurements (milliseconds) with percentiles. */
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

/** The event-loop probe's period: a timer this often, and how late it fires. */
const LOOP_PROBE_MS = 100;

/**
 * Where Central's memory is: all of it, the JS heap (what V8 holds, and what of it is in
 * use: the rest is garbage not yet collected), and buffers outside the heap.
 */
export function memory(): Record<string, number> {
  const m = Deno.memoryUsage();
  return {
    rss_bytes: m.rss,
    heap_total_bytes: m.heapTotal,
    heap_used_bytes: m.heapUsed,
    external_bytes: m.external,
  };
}

/** Central's counters and delay samples. */
export class Metrics {
  /**
   * Kafka records read and batches handled; records that were not a message (`invalid`), and
   * messages the rules ignored, changing nothing (`ignored`: a duplicate request, a forged or
   * stale reading); telemetry readings applied or ignored.
   */
  readonly counts = {
    telemetryApplied: 0,
    telemetryIgnored: 0,
    records: 0,
    batches: 0,
    invalid: 0,
    /** Telemetry records without a valid code under their CP's key: dropped. */
    unauthenticated: 0,
    ignored: 0,
  };
  /** Telemetry: from the engine's send to Central's state. */
  readonly lag = new Samples();
  /** Requests: from the driver's send to Central's decision. */
  readonly requestDelay = new Samples();
  /** How late a 100 ms timer runs: the longest time Central could not serve anything. */
  readonly loopDelay = new Samples();
  /** How long each database transaction takes (apply, saved progress): the loop waits for it. */
  readonly dbWrite = new Samples();
  #probe?: ReturnType<typeof setInterval>;

  /** Starts measuring how late the event loop runs. */
  startLoopProbe(): void {
    let expected = performance.now() + LOOP_PROBE_MS;
    clearInterval(this.#probe);
    this.#probe = setInterval(() => {
      const now = performance.now();
      this.loopDelay.add(Math.max(0, Math.round(now - expected)));
      expected = now + LOOP_PROBE_MS;
    }, LOOP_PROBE_MS);
  }

  /** Stops the loop probe. */
  stop(): void {
    clearInterval(this.#probe);
  }

  /** The counters, percentiles and memory as one flat record. */
  snapshot(): Record<string, number> {
    const lag = this.lag.summary();
    const req = this.requestDelay.summary();
    const loop = this.loopDelay.summary();
    const db = this.dbWrite.summary();
    return {
      ...this.counts,
      lag_p50_ms: lag.p50,
      lag_p99_ms: lag.p99,
      lag_max_ms: lag.max,
      request_wait_p50_ms: req.p50,
      request_wait_p99_ms: req.p99,
      request_wait_max_ms: req.max,
      loop_delay_p99_ms: loop.p99,
      loop_delay_max_ms: loop.max,
      db_write_p99_ms: db.p99,
      db_write_max_ms: db.max,
      ...memory(),
    };
  }

  /** Forgets the delay samples (a benchmark step starts); counters keep counting. */
  resetSamples(): void {
    this.lag.reset();
    this.requestDelay.reset();
    this.loopDelay.reset();
    this.dbWrite.reset();
  }
}
