/**
 * The values our builders and parsers made. Each is deeply frozen and valid when sealed, and being
 * frozen it cannot change afterwards, so builders, `parseCanvas` and `compile` reuse it as is
 * instead of re-checking and copying it: composing or applying a 100 000-member group must not
 * cost a copy each time.
 *
 * With each node we keep its height — how many levels `parseCanvas` would count from it down (see
 * `MAX_DEPTH`) — so that a builder can tell in O(1) per part whether what it builds stays within
 * the limit, and canvases built in code obey the same depth limit as parsed ones.
 */
import { CanvasError } from '../errors.js';
import { MAX_DEPTH, jsonHeight } from '../json.js';
import { formatPath, type Path } from './paths.js';
import type { Canvas } from '../types.js';

/** Every trusted node, with its height. Only frozen, valid nodes are ever added. */
const sealed = new WeakMap<object, number>();

/**
 * Deep-freezes a canvas a builder just made and remembers every new node in it as trusted.
 * Measuring and freezing stop at nodes that are sealed already, so the cost is the size of what is new.
 *
 * @param canvas - The builder's result: new nodes over sealed parts.
 * @param path - Where an error should point, e.g. `['steps', 3]`; the root by default.
 * @param builder - The builder's name for the error message, e.g. `chord()`.
 * @returns `canvas`, now frozen.
 * @throws CanvasError when `canvas` nests deeper than {@link MAX_DEPTH} levels.
 */
export function seal<T extends Canvas>(canvas: T, path: Path = [], builder = 'the builder'): T {
  if (sealed.has(canvas)) return canvas;
  const found = new Map<Canvas, number>();
  const height = measure(canvas, found);
  if (height > MAX_DEPTH) throw tooDeep(path, builder, height);
  for (const [node, h] of found) {
    freezeNode(node);
    sealed.set(node, h);
  }
  return canvas;
}

/**
 * Freezes one new node and the lists and objects that belong to it. Its child nodes are either
 * sealed (frozen already) or new, and then frozen by their own turn in `seal`'s loop, so lists of
 * canvases are frozen without visiting their members (immer's deep freeze visited every member of
 * every new list, which dominated wrapping a long chain). Arguments are JSON the parser copied and
 * froze, in lists a builder may have made.
 */
function freezeNode(node: Canvas): void {
  const { options } = node;
  if (options.link !== undefined) Object.freeze(options.link);
  if (options.linkError !== undefined) Object.freeze(options.linkError);
  if (options.backoff !== undefined) Object.freeze(options.backoff);
  Object.freeze(options);
  switch (node.kind) {
    case 'signature':
      freezeJson(node.args);
      freezeJson(node.kwargs);
      break;
    case 'chain':
    case 'group':
      Object.freeze(node.tasks);
      break;
    case 'chord':
      Object.freeze(node.header);
      break;
  }
  Object.freeze(node);
}

/** Deep-freezes JSON, stopping at what is frozen already. Checked JSON is shallow enough to recurse. */
function freezeJson(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const item of value as readonly unknown[]) freezeJson(item);
  } else {
    for (const key of Object.keys(value)) freezeJson((value as Readonly<Record<string, unknown>>)[key]);
  }
}

/**
 * Remembers one node the parser has just checked, copied and frozen (its children are registered
 * already), with the height the parser measured.
 */
export function register(node: Canvas, height: number): void {
  sealed.set(node, height);
}

/** Whether `value` is a canvas our builders (or `parseCanvas`) made. */
export function isSealed(value: unknown): value is Canvas {
  return typeof value === 'object' && value !== null && sealed.has(value);
}

/** The height of a sealed canvas; 0 for anything else. */
export function heightOf(canvas: Canvas): number {
  return sealed.get(canvas) ?? 0;
}

/**
 * The error for a builder whose result would be too deep, shared by the builders that check
 * before they build (so that they never recurse that deep).
 */
export function tooDeep(path: Path, builder: string, height: number | undefined): CanvasError {
  const depth = height === undefined ? `more than ${MAX_DEPTH}` : String(height);
  return new CanvasError(
    formatPath(path),
    `${builder} would nest the canvas ${depth} levels deep, but canvases are limited to ${MAX_DEPTH} ` +
      '(MAX_DEPTH), as parseCanvas limits them: build it flatter, e.g. one group(array) instead of nested groups',
  );
}

/** Heights of the new (unsealed) nodes under `node`, memoised in `found`; sealed ones are looked up. */
function measure(node: Canvas, found: Map<Canvas, number>): number {
  const known = sealed.get(node) ?? found.get(node);
  if (known !== undefined) return known;
  let below = 0;
  switch (node.kind) {
    case 'signature':
      below = Math.max(jsonHeight(node.args), jsonHeight(node.kwargs));
      break;
    case 'chain':
    case 'group':
      for (const task of node.tasks) below = Math.max(below, measure(task, found));
      break;
    case 'chord':
      for (const task of node.header) below = Math.max(below, measure(task, found));
      below = Math.max(below, measure(node.body, found));
      break;
  }
  for (const callback of node.options.link ?? []) below = Math.max(below, measure(callback, found));
  for (const errback of node.options.linkError ?? []) below = Math.max(below, measure(errback, found));
  const height = below + 1;
  found.set(node, height);
  return height;
}
