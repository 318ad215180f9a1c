// The kinds of error a reconcile can end with, and what the runtime does with each (controller.ts):
// - UserInputError: input someone must fix (a bad spec, a missing Secret, a class vSphere refuses). The
//   reconciler turns it into a condition and an Event; the key is looked at again only after recheckAfterMs
//   (or when the object changes), never in a retry storm.
// - RetryAfterError: worth retrying, at a known time rather than on the backoff schedule (vCenter busy with
//   another task on the same VM, say).
// - anything else: retried with exponential backoff. (An API conflict is retried at once: kube-client.ts.)
// This module imports nothing, so every layer (providers included) can throw these.

/** How long input refused for a cause outside the cluster (vSphere's inventory) waits before a second look. */
export const RECHECK_OUTSIDE_MS = 60_000;

/** Input the user or an admin must fix; `reason` is the condition's and the Event's reason. */
export class UserInputError extends Error {
  /** When to look again although nothing watched changed (undefined: only when the object changes). */
  readonly recheckAfterMs: number | undefined;

  constructor(
    message: string,
    readonly reason: string,
    opts: { recheckAfterMs?: number | null } = {},
  ) {
    super(message);
    this.name = 'UserInputError';
    // By default the cause may lie outside what is watched: look again in a while.
    this.recheckAfterMs = opts.recheckAfterMs === null ? undefined : (opts.recheckAfterMs ?? RECHECK_OUTSIDE_MS);
  }
}

/** An error worth retrying after a given time rather than the usual backoff. */
export class RetryAfterError extends Error {
  constructor(
    message: string,
    readonly afterMs: number,
  ) {
    super(message);
    this.name = 'RetryAfterError';
  }
}

/** An error's message for logs, Events and conditions (a thrown non-Error as text). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
