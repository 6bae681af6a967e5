/**
 * Failures reach every waiter: a failing step rejects `get()` with a TaskError (task name, id,
 * remote error), the rest of the chain never runs, a chord whose header fails never runs its body,
 * and an unregistered task name fails with NotRegisteredError. Nothing hangs.
 */
import { chain, chord, signature } from '@celeriac/canvas';
import { ChordError, NotRegisteredError, TaskError } from '@celeriac/runtime';
import { add, app, fail, tsum, wait, withWorker } from './tasks.js';

function describe(error: unknown): string {
  if (error instanceof TaskError) return `TaskError from ${error.task}: ${error.remoteName}: ${error.message.split(': ').at(-1)}`;
  if (error instanceof ChordError || error instanceof NotRegisteredError) return `${error.name}: ${error.message}`;
  return String(error);
}

await withWorker(async () => {
  const res = await app.apply(chain(add.s(1, 2), fail.s(), add.s(3)));
  console.log('chain(add.s(1, 2), fail.s(), add.s(3))');
  console.log('  res.get()               ->', describe(await res.get(wait).catch((e: unknown) => e)));
  console.log('  res.parent.parent.get() =', await res.parent.parent.get(wait));

  const body = await app.apply(chord([add.s(1, 1), fail.s()], tsum.s()));
  console.log('chord([add.s(1, 1), fail.s()], tsum.s())');
  console.log('  res.get({ followParents: false }) ->', describe(await body.get({ ...wait, followParents: false }).catch((e: unknown) => e)));

  const unknown = await app.apply(signature('no.such.task', [1]));
  console.log("signature('no.such.task')");
  console.log('  res.get() ->', describe(await unknown.get(wait).catch((e: unknown) => e)));
});
