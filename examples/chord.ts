/**
 * A chord runs a header group, then hands the ordered list of its results to the body — released
 * by the last header task to finish, with no polling.
 */
import { chord } from '@celeriac/canvas';
import { add, app, tsum, wait, withWorker } from './tasks.js';

await withWorker(async () => {
  const res = await app.apply(chord(Array.from({ length: 10 }, (_, i) => add.s(i, i)), tsum.s()));
  console.log('chord([add.s(i, i) for i in 0..9], tsum.s())');
  console.log('  res.get()        =', await res.get(wait));
  console.log('  res.parent.get() =', JSON.stringify(await res.parent.get(wait)));
});
