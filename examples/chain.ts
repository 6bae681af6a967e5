/**
 * A chain runs its steps one after another, each receiving the previous result as its first
 * argument: (2 + 2) → 4 + 4 → 8 + 8 = 16. Every result keeps a `.parent` link.
 */
import { chain } from '@celeriac/canvas';
import { add, app, wait, withWorker } from './tasks.js';

await withWorker(async () => {
  const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
  console.log('chain(add.s(2, 2), add.s(4), add.s(8))');
  console.log('  res.get()               =', await res.get(wait));
  console.log('  res.parent.get()        =', await res.parent.get(wait));
  console.log('  res.parent.parent.get() =', await res.parent.parent.get(wait));
});
