/**
 * A group runs its members in parallel; its result lists their values in member order, whatever
 * order they finish in. `chunks` splits a long list of calls into groups of starmaps.
 */
import { chunks, group } from '@celeriac/canvas';
import { add, app, wait, withWorker } from './tasks.js';

await withWorker(async () => {
  const res = await app.apply(group(Array.from({ length: 10 }, (_, i) => add.s(i, i))));
  console.log('group(add.s(i, i) for i in 0..9)');
  console.log('  res.get()            =', JSON.stringify(await res.get(wait)));
  console.log('  res.completedCount() =', await res.completedCount());

  const pairs = Array.from({ length: 10 }, (_, i) => [i, i] as [number, number]);
  const parts = await app.apply(chunks(add, pairs, 4));
  console.log('chunks(add, zip(0..9, 0..9), 4)');
  console.log('  res.get()            =', JSON.stringify(await parts.get(wait)));
});
