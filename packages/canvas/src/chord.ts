/**
 * `chord(header, body)`: the header members run in parallel; when all have finished, the body
 * runs once with the list of their results (Celery's `chord`).
 */
import { CanvasError } from './errors.js';
import { formatPath } from './internal/paths.js';
import { adopt, isEmpty } from './internal/values.js';
import { seal } from './internal/sealed.js';
import type { Canvas, Chord, Group } from './types.js';
import type { AnyCanvas, ChordLineage, FitsAfter, Header, HeaderAccepts, HeaderResult, InferResult } from './typing.js';

/**
 * Builds a chord: the header members run in parallel, then the body runs once and receives the
 * list of header results, in header order, as its first argument.
 *
 * The header is an array of canvases or a group. A group is unpacked into its members; if it
 * carries options of its own (say a queue), it is kept whole as the only header element instead,
 * so the options keep applying to its members and not to the body. A group inside an array
 * header stays an element, as in `group()`: its results are spliced into the header list, so the
 * body receives one flat list either way.
 *
 * Type check: the body must accept the header's result list (a tuple for a typed header), or
 * ignore it (`.si()`).
 *
 * @param header - The parallel part: an array of canvases or a group.
 * @param body - What runs after the header, with its results.
 * @returns A frozen chord typed with the body's result.
 * @throws CanvasError when the header is neither an array nor a group, an element is not a
 *   canvas, or the chord would nest deeper than `MAX_DEPTH`.
 * @example
 * ```ts
 * const tsum = defineTask<[nums: number[]], number>('tsum');
 * chord([add.s(1, 1), add.s(2, 2)], tsum.s()); // Chord<[], number, [GroupRes<[number, number]>, AsyncRes<number>]>: tsum([2, 4])
 * ```
 */
export function chord<const H extends Header, B extends AnyCanvas>(
  header: H,
  body: B & FitsAfter<B, HeaderResult<H>, 'the header result list'>,
): Chord<HeaderAccepts<H>, InferResult<B>, ChordLineage<H, B>> {
  const tasks = headerOf(header);
  return seal(makeChord(tasks, adopt(body, ['body'], 'chord()')), [], 'chord()') as Chord<
    HeaderAccepts<H>,
    InferResult<B>,
    ChordLineage<H, B>
  >;
}

function headerOf(header: unknown): readonly Canvas[] {
  if (Array.isArray(header)) return header.map((item, i) => adopt(item, ['header', i], 'chord()'));
  if (typeof header === 'object' && header !== null && (header as { kind?: unknown }).kind === 'group') {
    return unpack(adopt(header, ['header'], 'chord()') as Group);
  }
  throw new CanvasError(
    formatPath(['header']),
    'chord() expected an array of canvases or a group as its header: pass [sig1, sig2] or group(sig1, sig2)',
  );
}

/** A group's members as a chord header: unpacked, unless the group has options of its own. */
export function unpack(group: Group): readonly Canvas[] {
  return isEmpty(group.options) ? group.tasks : [group];
}

/** The chord node itself, for builders that already own their parts (not sealed). */
export function makeChord(header: readonly Canvas[], body: Canvas): Chord {
  return { kind: 'chord', header, body, options: {} };
}
