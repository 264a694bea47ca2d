/**
 * The silence detector of a link: a deadline moved on every sign of life, that forgives this
 * process's own stalls before it blames the peer.
 *
 * @module
 */

/** A timer, or a read, this late means our own process was stalled, not that the peer fell silent. */
const STALLED_MS = 250;

/**
 * A timer that closes a link when it falls silent; `arm()` again on every frame.
 *
 * Arming only moves a deadline: the one timer, when it fires early, sleeps again for what is
 * left. Ten thousand links beating every second would otherwise cost twenty thousand timer
 * operations a second.
 *
 * A timer that fires late has seen a stall of this process: the peer's frames may be waiting
 * unread in the socket. It then waits once more, as long as the stall lasted, before it
 * blames the peer; otherwise one busy second would drop every link at once, and the
 * reconnections would make the next second busier still. For the same reason it waits for
 * as long as `ioLag` says this process reads its sockets late.
 */
export function idleTimer(
  onIdle: () => void,
  ioLag: () => number = () => 0,
): { arm(ms: number): void; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let deadline = 0;
  let firesAt = 0;
  let forgiven = false;
  const schedule = (ms: number) => {
    clearTimeout(timer);
    firesAt = Date.now() + ms;
    timer = setTimeout(fire, ms);
  };
  const fire = () => {
    const now = Date.now();
    const left = deadline - now;
    if (left > 0) return schedule(left);
    const late = now - firesAt;
    if (late > STALLED_MS && !forgiven) {
      forgiven = true;
      return schedule(late);
    }
    const behind = ioLag();
    if (behind > STALLED_MS) return schedule(behind);
    timer = undefined;
    onIdle();
  };
  return {
    arm(ms) {
      deadline = Date.now() + ms;
      forgiven = false;
      if (timer === undefined || firesAt > deadline) schedule(ms);
    },
    clear() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
