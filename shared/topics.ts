/**
 * Kafka topic names. The spec's names are the defaults; EV_TOPIC_PREFIX (or one variable
 * per topic) overrides them, so that tests and several networks can share one broker.
 *
 * @module
 */

/** The three topics of the system. */
export interface Topics {
  requests: string;
  telemetry: string;
  control: string;
}

/** The topic names for this process's environment. */
export function topicNames(env: (name: string) => string | undefined = readEnv): Topics {
  const prefix = env("EV_TOPIC_PREFIX") ?? "";
  return {
    requests: env("EV_REQUESTS_TOPIC") ?? `${prefix}requests_topic`,
    telemetry: env("EV_TELEMETRY_TOPIC") ?? `${prefix}telemetry_topic`,
    control: env("EV_CONTROL_TOPIC") ?? `${prefix}control_topic`,
  };
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
