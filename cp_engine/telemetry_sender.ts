/**
 * The engine's telemetry to Kafka: batches go out one at a time and in order, each record
 * signed with the CP's key (shared/protocol/record_mac.ts). While Kafka refuses them, or no
 * key has come from the monitor yet, the readings are dropped but the ends of supply are kept
 * for the next send, since a ticket depends on its end and a lost reading is made good by the
 * next. The engine also sends each end again until Central acknowledges it: one kept copy per
 * session, signed anew with the key of the moment.
 *
 * @module
 */
import { errorText, type Logger } from "../shared/process/log.ts";
import type { TelemetryMessage } from "../shared/protocol/messages.ts";
import { type MacKey, signedHeaders } from "../shared/protocol/record_mac.ts";

/** What the sender needs of a producer (a JsonProducer, or a fake in tests). */
export interface TelemetryProducer {
  sendRaw(
    topic: string,
    messages: { key: string; value: string; headers: Record<string, string> }[],
  ): Promise<void>;
}

/** Sends an engine's telemetry, keeping its ends of supply until Kafka takes them. */
export class TelemetrySender {
  #sending: Promise<void> = Promise.resolve();
  /** Ends of supply not yet taken by Kafka: retried with the next send, never dropped. */
  #unsentEnds: TelemetryMessage[] = [];
  #failing = false;
  #keyless = false;

  /** `key`: the CP's key of the moment, from its monitor; undefined until one came. */
  constructor(
    readonly producer: TelemetryProducer,
    readonly topic: string,
    readonly log: Pick<Logger, "info" | "error">,
    readonly key: () => MacKey | undefined,
  ) {}

  /** Queues `messages` after the sends before them; an empty call still retries kept ends. */
  send(messages: TelemetryMessage[]): void {
    if (messages.length === 0 && this.#unsentEnds.length === 0) return;
    this.#sending = this.#sending.then(async () => {
      const fresh = new Set(messages.map((m) => m.type === "SUPPLY_END" && m.session_id));
      const kept = this.#unsentEnds.filter((m) => !fresh.has(m.session_id));
      const batch = [...kept, ...messages];
      this.#unsentEnds = [];
      // Central drops what is not signed: readings wait for nothing, ends for the key.
      const key = this.key();
      if (!key) {
        this.#unsentEnds = batch.filter((m) => m.type === "SUPPLY_END");
        if (!this.#keyless) {
          this.log.error(
            "no key from the monitor yet (Central issues it at registration): " +
              "readings are not sent, ends of supply wait for it",
          );
        }
        this.#keyless = true;
        return;
      }
      if (this.#keyless) this.log.info("key from the monitor: telemetry is signed and sent");
      this.#keyless = false;
      try {
        const records = await Promise.all(batch.map(async (m) => {
          const value = JSON.stringify(m);
          return { key: m.cp_id, value, headers: await signedHeaders(key, value) };
        }));
        await this.producer.sendRaw(this.topic, records);
        if (this.#failing) this.log.info("Kafka takes telemetry again");
        this.#failing = false;
      } catch (e) {
        // Readings are cumulative, so a lost one is made good by the next; an end is kept.
        this.#unsentEnds = batch.filter((m) => m.type === "SUPPLY_END");
        if (!this.#failing) this.log.error(`sending telemetry failed: ${errorText(e)}; retrying`);
        this.#failing = true;
      }
    });
  }

  /** Resolves once every send queued so far has been tried (e.g. before disconnecting). */
  idle(): Promise<void> {
    return this.#sending;
  }
}
