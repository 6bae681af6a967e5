/**
 * Canvases nest freely: a chain feeding a group whose results join into a sum, then continue.
 * `toMermaid` draws the graph the runtime executes.
 */
import { chain, group, toMermaid } from '@celeriac/canvas';
import { add, app, mul, tsum, wait, withWorker } from './tasks.js';

const workflow = chain(add.s(2, 2), group(add.s(1), mul.s(3), add.s(10)), tsum.s(), mul.s(2));

await withWorker(async () => {
  const res = await app.apply(workflow);
  console.log('chain(add.s(2, 2), group(add.s(1), mul.s(3), add.s(10)), tsum.s(), mul.s(2))');
  console.log('  res.get()                      =', await res.get(wait));
  console.log('  res.parent.get() (the sum)     =', await res.parent.get(wait));
  console.log('  res.parent.parent.get() (group) =', JSON.stringify(await res.parent.parent.get(wait)));
  console.log('\nThe graph, as Mermaid:\n');
  console.log(toMermaid(workflow));
});
