/**
 * The values our builders made. Each is deeply frozen and valid when sealed, and being frozen it
 * cannot change afterwards, so builders and `parseCanvas` reuse it as is instead of re-checking and
 * copying it: composing or applying a 100 000-member group must not cost a copy each time.
 */
import { freeze } from 'immer';
import type { Canvas } from '../types.js';

const sealed = new WeakSet<object>();

/**
 * Deep-freezes a canvas a builder just made and remembers every node in it as trusted.
 * Freezing stops at nodes that are already frozen, so the cost is the size of what is new.
 */
export function seal<T extends Canvas>(canvas: T): T {
  freeze(canvas, true);
  trust(canvas);
  return canvas;
}

/** Remembers a valid, deeply frozen canvas (and every node in it) as trusted. */
export function trust(node: Canvas): void {
  if (sealed.has(node)) return;
  sealed.add(node);
  switch (node.kind) {
    case 'signature':
      break;
    case 'chain':
    case 'group':
      for (const task of node.tasks) trust(task);
      break;
    case 'chord':
      for (const task of node.header) trust(task);
      trust(node.body);
      break;
  }
  for (const callback of node.options.link ?? []) trust(callback);
  for (const errback of node.options.linkError ?? []) trust(errback);
}

/** Whether `value` is a canvas our builders (or `parseCanvas`) made. */
export function isSealed(value: unknown): value is Canvas {
  return typeof value === 'object' && value !== null && sealed.has(value);
}
