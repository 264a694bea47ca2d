/**
 * A producer of JSON messages, keyed by CP id so that one CP's messages stay in order, and
 * acknowledged by every in-sync replica before a send resolves.
 *
 * @module
 */
import { type Kafka, Partitioners, type Producer } from "kafkajs";

/** A producer of JSON messages. */
export class JsonProducer {
  readonly #producer: Producer;

  constructor(kafka: Kafka) {
    this.#producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  /** Sends messages to `topic`, each keyed (by CP id) so one CP's messages stay in order. */
  async send(topic: string, messages: { key: string; value: unknown }[]): Promise<void> {
    if (messages.length === 0) return;
    await this.sendRaw(
      topic,
      messages.map((m) => ({ key: m.key, value: JSON.stringify(m.value) })),
    );
  }

  /** Sends values that are already JSON text. */
  async sendRaw(topic: string, messages: { key: string; value: string }[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#producer.send({ topic, acks: -1, messages });
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect();
  }
}
