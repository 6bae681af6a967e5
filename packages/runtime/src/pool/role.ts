/**
 * Whether this process is a pool child. Kept on a global symbol rather than in a module variable,
 * so that it holds even when the app module a child loads resolves another copy of the runtime.
 */

const role = Symbol.for('celeriac.poolChild');

/**
 * Whether this process is a child of a worker's processes pool, running handlers for it. An app
 * module that also starts a worker when run as a program can skip that in a child:
 *
 * @returns true inside a pool child, while it loads the app module and afterwards.
 * @example
 * ```ts
 * export const app = createApp({ redis: process.env.REDIS_URL });
 * app.task('add', (x: number, y: number) => x + y);
 * if (!isPoolChild()) app.worker({ pool: 'processes', appModule: new URL(import.meta.url) });
 * ```
 */
export function isPoolChild(): boolean {
  return (globalThis as Record<symbol, unknown>)[role] === true;
}

/** Marks this process as a pool child, before it loads the app module. */
export function markPoolChild(): void {
  (globalThis as Record<symbol, unknown>)[role] = true;
}
