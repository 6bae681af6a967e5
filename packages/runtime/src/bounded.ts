/**
 * Waiting with a bound: closing an app or a worker must finish even when Redis is gone and what
 * it waits for never settles.
 */

/** Waits for `promise` (whatever it settles with), but not longer than `ms`. */
export async function within(ms: number, promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Resolves once `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/**
 * Resolves once `test()` holds, checking every `everyMs`; or once `stop` aborts, since what it
 * waits for may never happen (a handler that never returns) and its timer must not outlive the wait.
 */
export function until(test: () => boolean, everyMs = 100, stop?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (test() || stop?.aborted === true) return resolve();
    const done = (): void => {
      clearInterval(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setInterval(() => {
      if (test()) done();
    }, everyMs);
    stop?.addEventListener('abort', done, { once: true });
  });
}
