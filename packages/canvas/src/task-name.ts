/**
 * Task names that mean something to Celeriac itself: the namespace reserved for the runtime's own
 * jobs, and Celery's built-in `celery.map`/`celery.starmap`, which canvases use by name.
 */

/**
 * Task names starting with this prefix belong to the runtime's internal jobs (releasing a
 * workflow's next steps, finishing a replaced task, …). No user canvas may name one: `parseCanvas`,
 * `fromCelery` and every builder refuse them with a `CanvasError`, and the runtime refuses to
 * register a task under such a name, so a payload can never make a worker run an internal job with
 * arguments of its choosing. Celery's own `celery.*` names are not reserved: they are ordinary
 * task names here.
 *
 * @example
 * ```ts
 * signature(`${RESERVED_TASK_PREFIX}release`); // throws CanvasError: the name is reserved
 * ```
 */
export const RESERVED_TASK_PREFIX = 'celeriac.';

/**
 * Whether a task name is in the namespace reserved for the runtime's internal jobs.
 *
 * @param name - A task name.
 * @returns `true` when it starts with {@link RESERVED_TASK_PREFIX}.
 * @example
 * ```ts
 * isReservedTaskName('celeriac.replaced'); // true
 * isReservedTaskName('celery.map');        // false: Celery's built-ins are ordinary names
 * ```
 */
export function isReservedTaskName(name: string): boolean {
  return name.startsWith(RESERVED_TASK_PREFIX);
}

/** @internal Celery's `xmap`: one call that applies `kwargs.task` to each item of `kwargs.it`. */
export const MAP_TASK = 'celery.map';

/** @internal Celery's `xstarmap`: as {@link MAP_TASK}, spreading each item as the argument list. */
export const STARMAP_TASK = 'celery.starmap';
