/**
 * Immutable signatures (`.si`) ignore the previous result: each step adds its own arguments,
 * and the chain still runs strictly in order.
 */
import { chain } from '@celeriac/canvas';
import { add, app, wait, withWorker } from './tasks.js';

await withWorker(async () => {
  const res = await app.apply(chain(add.si(2, 2), add.si(4, 4), add.si(8, 8)));
  console.log('chain(add.si(2, 2), add.si(4, 4), add.si(8, 8))');
  console.log('  res.get()               =', await res.get(wait));
  console.log('  res.parent.get()        =', await res.parent.get(wait));
  console.log('  res.parent.parent.get() =', await res.parent.parent.get(wait));

  // Any process can rebuild the result, parents included, from its id alone.
  const again = await app.result(res.id);
  console.log('  app.result(id).parent.parent.get() =', await again.parent!.parent!.get(wait));
});
