// Waiting, bounded: a promise given a time limit (an operation that may never answer — a guest's reboot
// call, a read of a vCenter that hangs — before the caller treats it as failed), and a wait for a stop signal.

/** `p`, or a rejection saying `what` had no answer within `ms` when it has not settled by then. */
export function withTimeout<T>(p: Promise<T>, ms: number, what = 'the call'): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Resolves when `signal` aborts (at once when it has already). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Resolves after `ms`, or sooner when `signal` aborts (leaving no timer or listener behind). */
export function pause(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
