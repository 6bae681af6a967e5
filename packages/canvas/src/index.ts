/**
 * @module @celeriac/canvas
 *
 * Celery's canvas as plain, typed, deeply frozen data: signatures, immutable signatures, chains,
 * groups, chords, map/starmap/chunks, and the compiled DAG the runtime executes. No I/O.
 *
 * @example
 * ```ts
 * import { chain, defineTask } from '@celeriac/canvas';
 * const add = defineTask<[x: number, y: number], number>('add');
 * const flow = chain(add.s(2, 2), add.s(4), add.s(8)); // (2 + 2) + 4 + 8 = 16 when run
 * ```
 */
export type {
  Json,
  Kwargs,
  Backoff,
  TaskOptions,
  Typed,
  AsyncRes,
  GroupRes,
  AnyRes,
  Lineage,
  Signature,
  Chain,
  Group,
  Chord,
  Canvas,
  CanvasKind,
  InputRef,
  ResultRef,
  NodeRole,
  GraphNode,
  GraphGroup,
  GraphEdge,
  CompiledGraph,
} from './types.js';
export { CeleriacError, CanvasError } from './errors.js';
export type { CanvasErrorCode } from './errors.js';
export { signature, defineTask, immutable, partial, withOptions } from './signature.js';
export type { TaskRef } from './signature.js';
export type { InferArgs, InferResult, AnySignature, AnyCanvas, LineageOf } from './typing.js';
export { chain } from './chain.js';
export { group } from './group.js';
export { chord } from './chord.js';
export { map, starmap, chunks } from './map.js';
export { parseCanvas } from './parse.js';
export { MAX_DEPTH, findJsonProblem } from './json.js';
export type { JsonProblem } from './json.js';
export { RESERVED_TASK_PREFIX, isReservedTaskName } from './task-name.js';
export { toCelery, fromCelery } from './celery.js';
export type { CelerySignatureDict } from './celery.js';
export { compile } from './compile.js';
export { toMermaid, toDot } from './render.js';
