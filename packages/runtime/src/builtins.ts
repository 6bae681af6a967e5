/**
 * Celery's built-in tasks that canvases refer to by name: `celery.map` and `celery.starmap` call
 * another registered task inline, once per item, and return the list (Celery's xmap/xstarmap).
 */
import { parseCanvas, type Json } from '@celeriac/canvas';
import { InvalidJobError, NotRegisteredError } from './errors.js';
import type { RegisteredTask, TaskContext } from './task.js';

type Lookup = (name: string) => RegisteredTask | undefined;

/** The built-in tasks every app registers, resolving inner tasks through `lookup`. */
export function builtinTasks(lookup: Lookup, registered: () => string[]): RegisteredTask[] {
  const make = (name: string, spread: boolean): RegisteredTask => ({
    name,
    bind: true,
    defaults: {},
    handler: (async (ctx: TaskContext) => {
      const inner = parseCanvas(ctx.kwargs['task']);
      const items = ctx.kwargs['it'];
      if (inner.kind !== 'signature' || !Array.isArray(items)) {
        throw new InvalidJobError(`${name} expects kwargs { task: <signature>, it: <array> }`);
      }
      const task = lookup(inner.task);
      if (task === undefined) throw new NotRegisteredError(inner.task, registered());
      const handler = task.handler as (...args: unknown[]) => unknown;
      const results: unknown[] = [];
      for (const item of items as readonly Json[]) {
        const args = spread ? [...(Array.isArray(item) ? item : [item]), ...inner.args] : [item, ...inner.args];
        const context: TaskContext = { ...ctx, task: inner.task, kwargs: inner.kwargs };
        results.push(await (task.bind ? handler(context, ...args) : handler(...args)));
      }
      return results;
    }) as (...args: never[]) => unknown,
  });
  return [make('celery.map', false), make('celery.starmap', true)];
}
