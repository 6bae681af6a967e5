/**
 * Reserved task names are refused on every route a user canvas can take into Celeriac: parsed
 * JSON, Celery dicts, and each builder. The runtime's internal jobs live in this namespace, so a
 * payload that could name one could make a worker run it with arguments of its choosing.
 */
import { describe, expect, it } from 'vitest';
import { fromCelery, toCelery } from './celery.js';
import { chain } from './chain.js';
import { CanvasError } from './errors.js';
import { chunks, map, starmap } from './map.js';
import { parseCanvas } from './parse.js';
import { defineTask, signature, withOptions } from './signature.js';
import { RESERVED_TASK_PREFIX, isReservedTaskName } from './task-name.js';
import type { Canvas } from './types.js';

const RESERVED = 'celeriac.replaced';
const message = `the task name "${RESERVED}" is reserved: names starting with "celeriac." belong to Celeriac's own jobs and cannot be sent in a canvas; rename the task`;

function refused(build: () => unknown, path: string): void {
  let error: unknown;
  try {
    build();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CanvasError);
  expect((error as CanvasError).path).toBe(path);
  expect((error as CanvasError).message).toBe(`${path}: ${message}`);
}

describe('RESERVED_TASK_PREFIX', () => {
  it('is the celeriac. namespace', () => {
    expect(RESERVED_TASK_PREFIX).toBe('celeriac.');
    expect(isReservedTaskName('celeriac.release')).toBe(true);
    expect(isReservedTaskName('celeriac.')).toBe(true);
    expect(isReservedTaskName('tasks.celeriac.x')).toBe(false);
    expect(isReservedTaskName('celeriac')).toBe(false);
  });
});

describe('parseCanvas', () => {
  it('refuses a reserved name at the top, nested, in a callback and as a mapped task', () => {
    refused(() => parseCanvas({ kind: 'signature', task: RESERVED }), 'task');
    refused(() => parseCanvas({ kind: 'chain', tasks: [{ kind: 'signature', task: 'ok' }, { kind: 'signature', task: RESERVED }] }), 'tasks[1].task');
    refused(() => parseCanvas({ kind: 'chord', header: [], body: { kind: 'signature', task: RESERVED } }), 'body.task');
    refused(
      () => parseCanvas({ kind: 'signature', task: 'ok', options: { linkError: [{ kind: 'signature', task: RESERVED }] } }),
      'options.linkError[0].task',
    );
    refused(
      () => parseCanvas({ kind: 'signature', task: 'celery.map', kwargs: { task: { kind: 'signature', task: RESERVED }, it: [1] } }),
      'kwargs.task.task',
    );
  });

  it('keeps Celery\'s own celery.* names allowed', () => {
    for (const task of ['celery.chord_unlock', 'celery.backend_cleanup', 'celery.accumulate']) {
      expect(parseCanvas({ kind: 'signature', task })).toMatchObject({ task });
    }
    const mapped = { kind: 'signature', task: 'celery.starmap', kwargs: { task: { kind: 'signature', task: 'add' }, it: [[1, 2]] } };
    expect(parseCanvas(mapped)).toMatchObject({ task: 'celery.starmap' });
  });
});

describe('fromCelery', () => {
  const dict = (task: string, extra: object = {}): object => ({ task, args: [], kwargs: {}, options: {}, subtask_type: null, immutable: false, ...extra });

  it('refuses a reserved name at the top, nested, in a callback and as a mapped task', () => {
    refused(() => fromCelery(dict(RESERVED)), 'task');
    refused(() => fromCelery({ ...dict('celery.chain'), subtask_type: 'chain', kwargs: { tasks: [dict('ok'), dict(RESERVED)] } }), 'kwargs.tasks[1].task');
    refused(() => fromCelery(dict('ok', { options: { link_error: [dict(RESERVED)] } })), 'options.link_error[0].task');
    refused(() => fromCelery({ ...dict('celery.map'), subtask_type: 'xmap', kwargs: { task: dict(RESERVED), it: [1] } }), 'kwargs.task.task');
    refused(() => fromCelery({ ...dict('celery.chunks'), subtask_type: 'chunks', kwargs: { task: dict(RESERVED), it: [[1]], n: 1 } }), 'kwargs.task.task');
  });

  it('keeps Celery\'s own celery.* names allowed', () => {
    expect(fromCelery(dict('celery.chord_unlock'))).toMatchObject({ task: 'celery.chord_unlock' });
  });
});

describe('builders', () => {
  it('refuse a reserved name in signature(), by string or by reference', () => {
    refused(() => signature(RESERVED), 'task');
    refused(() => signature({ name: RESERVED }, [1]), 'task');
  });

  it('refuse to define a task reference with a reserved name, so .s() and .si() can never make one', () => {
    refused(() => defineTask<[x: number], number>(RESERVED), 'name');
  });

  it('refuse a reserved mapped task in map(), starmap() and chunks()', () => {
    refused(() => map(RESERVED, [1]), 'task');
    refused(() => starmap({ name: RESERVED } as never, [[1]]), 'task');
    refused(() => chunks(RESERVED, [[1], [2]], 1), 'task');
  });

  it('refuse a hand-written reserved signature passed to a builder', () => {
    const forged = { kind: 'signature', task: RESERVED, args: [], kwargs: {}, options: {}, immutable: false } as Canvas;
    expect(() => chain(signature('ok'), forged)).toThrow(CanvasError);
    expect(() => chain(signature('ok'), forged)).toThrow(/^steps\[1\]\.task: the task name "celeriac\.replaced" is reserved/);
    expect(() => withOptions(signature('ok'), { link: [forged] })).toThrow(/^options\.link\[0\]\.task: the task name/);
  });

  it('let toCelery refuse a hand-written reserved signature too, as it validates first', () => {
    expect(() => toCelery({ kind: 'signature', task: RESERVED, args: [], kwargs: {}, options: {}, immutable: false })).toThrow(CanvasError);
  });
});
