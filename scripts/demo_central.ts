/**
 * Central's HTTP API as the scripted demo reads it: what a person would check on the panel
 * (states, sessions, events), with waits that have deadlines.
 *
 * @module
 */
import { eventually } from "../shared/process/eventually.ts";
import type { CpView } from "../central/views.ts";
import type { EventRow, SessionRow } from "../central/db.ts";

/** Central's API at `base` (e.g. `http://127.0.0.1:8080`). */
export class CentralApi {
  constructor(readonly base: string, readonly token: string) {}

  async #get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.base}${path}`);
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
    return await res.json() as T;
  }

  /** Every CP as Central shows it. */
  async cps(): Promise<CpView[]> {
    return (await this.#get<{ items: CpView[] }>("/cps")).items;
  }

  /** Sessions matching `filter` (GET /sessions query parameters), newest first. */
  async sessions(filter: Record<string, string> = {}): Promise<SessionRow[]> {
    const query = new URLSearchParams({ limit: "1000", ...filter });
    return (await this.#get<{ items: SessionRow[] }>(`/sessions?${query}`)).items;
  }

  /** Events matching `filter` (GET /events query parameters), newest first. */
  async events(filter: Record<string, string> = {}): Promise<EventRow[]> {
    const query = new URLSearchParams({ limit: "1000", ...filter });
    return (await this.#get<{ items: EventRow[] }>(`/events?${query}`)).items;
  }

  /** POST /command PARAR or REANUDAR, with the operator token (or, `null`, without one). */
  async command(
    command: "PARAR" | "REANUDAR",
    cpId: string,
    token: string | null = this.token,
  ): Promise<number> {
    const res = await fetch(`${this.base}/command`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ command, cp_id: cpId }),
    });
    await res.body?.cancel();
    return res.status;
  }

  /** Resolves with the CP once `test` holds for it on Central; throws at the deadline. */
  waitCp(
    cpId: string,
    what: string,
    test: (cp: CpView) => boolean,
    timeoutMs = 15_000,
  ): Promise<CpView> {
    return eventually(
      `${cpId} ${what} on Central`,
      async () => {
        const cp = (await this.cps().catch(() => []))
          .find((c) => c.cp_id === cpId);
        return cp && test(cp) ? cp : undefined;
      },
      timeoutMs,
      200,
    );
  }

  /** Resolves once Central shows `cpId` in `state`. */
  waitState(cpId: string, state: CpView["state"], timeoutMs?: number): Promise<CpView> {
    return this.waitCp(cpId, `to be ${state}`, (c) => c.state === state, timeoutMs);
  }

  /**
   * The first event of `kind` stored since `since` (ms; on `cp` if given) whose detail
   * matches `detail`.
   */
  waitEvent(
    kind: string,
    detail: RegExp,
    where: { cp?: string; since: number },
    timeoutMs = 15_000,
  ): Promise<EventRow> {
    const filter: Record<string, string> = { kind, from: String(where.since) };
    if (where.cp) filter.cp = where.cp;
    return eventually(
      `a ${kind} event matching ${detail} on Central`,
      async () => {
        const events = await this.events(filter).catch(() => []);
        return events.find((e) => detail.test(e.detail));
      },
      timeoutMs,
      200,
    );
  }
}
