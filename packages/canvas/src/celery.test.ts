/**
 * The fixtures under fixtures/celery/ are Celery signature dicts written by hand in the form
 * Celery's `Signature.__json__` produces (CELERY-SEMANTICS §1.2): `roundtrip/` holds dicts that
 * toCelery must reproduce exactly, `oneway/` dicts that fromCelery must accept but normalises
 * (frozen chords, chunks, options we do not model).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromCelery, toCelery, type CelerySignatureDict } from './celery.js';
import { CanvasError } from './errors.js';
import { parseCanvas } from './parse.js';
import type { Canvas, Chain, Chord, Group, Signature } from './types.js';

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'celery');

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(join(fixturesDir, `${name}.json`), 'utf8'));
}

const roundTrip = readdirSync(join(fixturesDir, 'roundtrip'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

const sig = (task: string, args: unknown[] = [], extra: Partial<Signature> = {}): Signature =>
  ({ kind: 'signature', task, args, kwargs: {}, options: {}, immutable: false, ...extra }) as Signature;
const add = (...args: number[]): Signature => sig('tasks.add', args);

function celeryError(value: unknown): CanvasError {
  try {
    fromCelery(value);
  } catch (e) {
    if (e instanceof CanvasError) return e;
    throw e;
  }
  throw new Error('fromCelery accepted the value');
}

describe('fromCelery', () => {
  it('has all 9 chain/group/chord nestings among the round-trip fixtures', () => {
    for (const outer of ['chain', 'group', 'chord']) {
      for (const inner of ['chain', 'group', 'chord']) expect(roundTrip).toContain(`${outer}-${inner}`);
    }
  });

  it('rebuilds a plain signature', () => {
    expect(fromCelery(fixture('roundtrip/signature'))).toStrictEqual(sig('tasks.add', [2, 2], { kwargs: { z: 1 } }));
  });

  it('rebuilds an immutable signature', () => {
    expect(fromCelery(fixture('roundtrip/signature-immutable'))).toStrictEqual(sig('tasks.add', [2, 2], { immutable: true }));
  });

  it('rebuilds a chain from kwargs.tasks', () => {
    expect(fromCelery(fixture('roundtrip/chain'))).toStrictEqual({ kind: 'chain', tasks: [add(2, 2), add(4), add(8)], options: {} });
  });

  it('rebuilds a group from kwargs.tasks', () => {
    expect(fromCelery(fixture('roundtrip/group'))).toStrictEqual({ kind: 'group', tasks: [add(1, 1), add(2, 2)], options: {} });
  });

  it('rebuilds a chord from kwargs.header and kwargs.body', () => {
    expect(fromCelery(fixture('roundtrip/chord'))).toStrictEqual({
      kind: 'chord',
      header: [add(1, 2), add(3, 4)],
      body: sig('tasks.xsum'),
      options: {},
    });
  });

  it('rebuilds each container nested in each other one, without normalising', () => {
    expect(fromCelery(fixture('roundtrip/chain-chain'))).toStrictEqual({
      kind: 'chain',
      tasks: [add(1, 1), { kind: 'chain', tasks: [add(2), add(3)], options: {} }],
      options: {},
    });
    expect(fromCelery(fixture('roundtrip/chain-group'))).toStrictEqual({
      kind: 'chain',
      tasks: [add(1, 1), { kind: 'group', tasks: [add(2), add(3)], options: {} }],
      options: {},
    });
    expect(fromCelery(fixture('roundtrip/chain-chord'))).toStrictEqual({
      kind: 'chain',
      tasks: [add(1, 1), { kind: 'chord', header: [add(2), add(3)], body: sig('tasks.xsum'), options: {} }],
      options: {},
    });
    expect(fromCelery(fixture('roundtrip/group-chain'))).toStrictEqual({
      kind: 'group',
      tasks: [{ kind: 'chain', tasks: [add(1, 1), add(2)], options: {} }, add(3, 3)],
      options: {},
    });
    expect(fromCelery(fixture('roundtrip/group-group'))).toStrictEqual({
      kind: 'group',
      tasks: [{ kind: 'group', tasks: [add(1, 1), add(2, 2)], options: {} }, add(3, 3)],
      options: {},
    });
    expect(fromCelery(fixture('roundtrip/group-chord'))).toStrictEqual({
      kind: 'group',
      tasks: [{ kind: 'chord', header: [add(1, 1), add(2, 2)], body: sig('tasks.xsum'), options: {} }, add(3, 3)],
      options: {},
    });
    expect(fromCelery(fixture('roundtrip/chord-chain'))).toStrictEqual({
      kind: 'chord',
      header: [{ kind: 'chain', tasks: [add(1, 1), add(2)], options: {} }, add(3, 3)],
      body: { kind: 'chain', tasks: [sig('tasks.xsum'), add(10)], options: {} },
      options: {},
    });
    expect(fromCelery(fixture('roundtrip/chord-group'))).toStrictEqual({
      kind: 'chord',
      header: [{ kind: 'group', tasks: [add(1, 1), add(2, 2)], options: {} }, add(3, 3)],
      body: { kind: 'group', tasks: [sig('tasks.xsum'), sig('tasks.tsum')], options: {} },
      options: {},
    });
    expect(fromCelery(fixture('roundtrip/chord-chord'))).toStrictEqual({
      kind: 'chord',
      header: [{ kind: 'chord', header: [add(1, 1), add(2, 2)], body: sig('tasks.xsum'), options: {} }, add(3, 3)],
      body: { kind: 'chord', header: [sig('tasks.identity')], body: sig('tasks.xsum'), options: {} },
      options: {},
    });
  });

  it('rebuilds a chord whose header holds a chain ending in a group, with a chain body', () => {
    const expected: Chord = {
      kind: 'chord',
      header: [
        { kind: 'chain', tasks: [add(1, 1), { kind: 'group', tasks: [add(10), add(20)], options: {} }], options: {} },
        sig('tasks.identity', [5], { immutable: true }),
      ],
      body: { kind: 'chain', tasks: [sig('tasks.xsum'), add(100)], options: {} },
      options: { taskId: '7c6c8f52-6bfe-4d3b-a8f1-3f4a1d1f2b90' },
    };
    expect(fromCelery(fixture('roundtrip/chord-nested'))).toStrictEqual(expected);
  });

  it('maps every modelled option to our name, recursively for callbacks', () => {
    expect(fromCelery(fixture('roundtrip/options')).options).toStrictEqual({
      taskId: 'b8d0a3a4-0a44-4d0e-9a1a-6f1f8b2f5c11',
      countdown: 10,
      eta: '2026-01-01T10:00:00+00:00',
      expires: 3600,
      priority: 4,
      queue: 'math',
      link: [sig('tasks.mul', [16])],
      linkError: [{ kind: 'chain', tasks: [sig('tasks.log_error', [], { immutable: true }), sig('tasks.alert')], options: {} }],
      timeLimit: 30,
      softTimeLimit: 25,
      ignoreResult: false,
      maxRetries: 5,
      backoff: { type: 'exponential', delay: 1, maxDelay: 600, jitter: true },
    });
  });

  it("reads max_retries None as no limit, Celery's Task.max_retries = None, and writes it back", () => {
    const dict = { task: 't', options: { max_retries: null, countdown: null } };
    const canvas = fromCelery(dict);
    expect(canvas.options).toStrictEqual({ maxRetries: null });
    expect(toCelery(canvas)).toMatchObject({ options: { max_retries: null } });
  });

  it('shifts priority by one: Celery-on-Redis 0 (highest) is our 1 (highest)', () => {
    const d = (priority: number): unknown => ({ task: 't', options: { priority } });
    expect(fromCelery(d(0)).options.priority).toBe(1);
    expect(fromCelery(d(9)).options.priority).toBe(10);
    expect(celeryError(d(-1)).message).toBe('options.priority: expected an integer from 0 (highest) to 2097151, got -1');
  });

  it('keeps the mapped task of xmap and xstarmap in our format', () => {
    expect(fromCelery(fixture('roundtrip/xmap'))).toStrictEqual({
      kind: 'signature',
      task: 'celery.map',
      args: [],
      kwargs: { task: sig('tasks.tsum'), it: [[1, 2], [3, 4, 5]] },
      options: {},
      immutable: true,
    });
    expect(fromCelery(fixture('roundtrip/xstarmap'))).toStrictEqual({
      kind: 'signature',
      task: 'celery.starmap',
      args: [],
      kwargs: { task: sig('tasks.add', [], { options: { queue: 'math' } }), it: [[1, 1], [2, 2]] },
      options: { priority: 1 },
      immutable: true,
    });
  });

  it('turns chunks into a group of starmaps over parts of at most n items', () => {
    const starmap = (it: number[][]): Signature =>
      ({ kind: 'signature', task: 'celery.starmap', args: [], kwargs: { task: sig('tasks.add'), it }, options: {}, immutable: true }) as unknown as Signature;
    const expected: Group = {
      kind: 'group',
      tasks: [starmap([[0, 0], [1, 1]]), starmap([[2, 2], [3, 3]]), starmap([[4, 4]])],
      options: {},
    };
    expect(fromCelery(fixture('oneway/chunks'))).toStrictEqual(expected);
  });

  it('rejects chunks without a positive integer size', () => {
    const chunks = fixture('oneway/chunks') as { kwargs: Record<string, unknown> };
    expect(celeryError({ ...chunks, kwargs: { ...chunks.kwargs, n: 0 } }).message).toBe('kwargs.n: expected a chunk size: an integer >= 1, got a number');
  });

  it('unpacks a frozen chord header given as a group dict and drops Celery bookkeeping options', () => {
    const chord = fromCelery(fixture('oneway/chord-frozen'));
    expect(chord).toStrictEqual({
      kind: 'chord',
      header: [sig('tasks.add', [1, 2], { options: { taskId: 'h0' } }), sig('tasks.add', [3, 4], { options: { taskId: 'h1' } })],
      body: sig('tasks.xsum', [], { options: { taskId: 'body-id' } }),
      options: { taskId: 'body-id' },
    });
  });

  it('unpacks a chain dict header into its tasks, as Celery does, and wraps any other dict', () => {
    const chord = (header: unknown): unknown => ({
      task: 'celery.chord',
      args: [],
      kwargs: { kwargs: {}, header, body: toCelery(sig('tasks.xsum')) },
      options: {},
      subtask_type: 'chord',
      immutable: false,
    });
    expect((fromCelery(chord(toCelery({ kind: 'chain', tasks: [add(1), add(2)], options: {} }))) as Chord).header).toStrictEqual([add(1), add(2)]);
    expect((fromCelery(chord(toCelery(add(1)))) as Chord).header).toStrictEqual([add(1)]);
  });

  it('keeps a group body a group', () => {
    const chord = fromCelery(fixture('roundtrip/chord-group')) as Chord;
    expect(chord.body.kind).toBe('group');
  });

  it('drops options Celery has and Celeriac does not model, and null options', () => {
    expect(fromCelery(fixture('oneway/celery-only-options')).options).toStrictEqual({ queue: 'math' });
  });

  it('ignores the task, args and immutable flag of chains and groups, as Celery does', () => {
    const d = { ...(toCelery({ kind: 'group', tasks: [add(1)], options: {} }) as object), task: 'whatever', args: [1], immutable: true };
    expect(fromCelery(d)).toStrictEqual({ kind: 'group', tasks: [add(1)], options: {} });
  });

  it('fills in missing optional keys like Celery', () => {
    expect(fromCelery({ task: 'tasks.add' })).toStrictEqual(sig('tasks.add'));
    expect(fromCelery({ task: 'tasks.add', args: null, kwargs: null, options: null, subtask_type: null, immutable: null })).toStrictEqual(sig('tasks.add'));
  });

  it('returns a deeply frozen canvas that parseCanvas accepts unchanged', () => {
    const canvas = fromCelery(fixture('roundtrip/chord-nested'));
    expect(Object.isFrozen(canvas)).toBe(true);
    const header = (canvas as Chord).header[0] as Chain;
    expect(Object.isFrozen(header.tasks)).toBe(true);
    expect(Object.isFrozen((header.tasks[0] as Signature).args)).toBe(true);
    expect(parseCanvas(canvas)).toStrictEqual(canvas);
  });

  describe('malformed dicts', () => {
    it('rejects an unknown subtask_type, naming its path', () => {
      const bad = { ...(fixture('roundtrip/chain') as object) } as { kwargs: { tasks: unknown[] } };
      const tasks = [...bad.kwargs.tasks];
      tasks[1] = { ...(tasks[1] as object), subtask_type: 'xgroup' };
      expect(celeryError({ ...bad, kwargs: { tasks } }).message).toBe(
        'kwargs.tasks[1].subtask_type: unknown subtask_type "xgroup"; expected null, "chain", "group", "chord", "xmap", "xstarmap", "chunks"',
      );
    });

    it('rejects a dict that is not an object', () => {
      expect(celeryError('tasks.add').message).toBe('expected a Celery signature dict, got a string');
      expect(celeryError({ ...(toCelery(add(1)) as object), subtask_type: 'chain', kwargs: { tasks: [null] } }).message).toBe(
        'kwargs.tasks[0]: expected a Celery signature dict, got null',
      );
    });

    it('rejects a missing task name', () => {
      expect(celeryError({ args: [1] }).message).toBe('task: expected a task name, got undefined');
    });

    it('rejects non-JSON arguments with the path inside the Celery dict', () => {
      const d = toCelery({ kind: 'chain', tasks: [add(1), add(2)], options: {} });
      const tasks = [...(d.kwargs['tasks'] as CelerySignatureDict[])];
      tasks[1] = { ...tasks[1]!, kwargs: { x: (() => 1) as unknown as string } };
      expect(celeryError({ ...d, kwargs: { tasks } }).message).toBe('kwargs.tasks[1].kwargs.x: expected JSON, got a function');
    });

    it('validates modelled options under their Celery names', () => {
      const d = (options: object): unknown => ({ task: 't', options });
      expect(celeryError(d({ time_limit: 5, soft_time_limit: 10 })).message).toBe('options.soft_time_limit: must not exceed time_limit (got 10 > 5)');
      expect(celeryError(d({ countdown: -1 })).message).toBe('options.countdown: expected a number >= 0 (seconds), got -1');
      expect(celeryError(d({ task_id: 'a:b' })).path).toBe('options.task_id');
      expect(celeryError(d({ link: [{ task: '' }] })).message).toBe('options.link[0].task: expected a task name, got an empty string');
      expect(celeryError(d({ backoff: { type: 'fixed', delay: 1, maxDelay: 3 } })).message).toMatch(/^options\.backoff\.maxDelay: unknown backoff field/);
    });

    it('accepts a single callback dict where Celery allows one instead of a list', () => {
      expect(fromCelery({ task: 't', options: { link: toCelery(add(1)) } }).options.link).toStrictEqual([add(1)]);
    });

    it('rejects a chord without a body, which Celery allows but we cannot run', () => {
      const d = fixture('roundtrip/chord') as { kwargs: object };
      expect(celeryError({ ...d, kwargs: { ...d.kwargs, body: null } }).message).toBe(
        'kwargs.body: a chord needs a body (a chord without one cannot be represented)',
      );
    });

    it("rejects a chord's partial args and kwargs rather than losing them", () => {
      const d = fixture('roundtrip/chord') as { kwargs: object };
      expect(celeryError({ ...d, args: [1] }).path).toBe('args');
      expect(celeryError({ ...d, kwargs: { ...d.kwargs, kwargs: { z: 1 } } }).path).toBe('kwargs.kwargs');
    });

    it('rejects a map without its mapped task', () => {
      expect(celeryError({ task: 'celery.map', kwargs: { it: [] }, subtask_type: 'xmap' }).message).toBe(
        'kwargs.task: required: the Celery signature dict of the mapped task',
      );
    });

    it('rejects __proto__ keys and leaves Object.prototype untouched', () => {
      const payload: unknown = JSON.parse('{"task":"t","kwargs":{"__proto__":{"polluted":1}}}');
      expect(celeryError(payload).message).toBe('kwargs.__proto__: the key "__proto__" is not allowed (it could pollute prototypes)');
      const inOptions: unknown = JSON.parse('{"task":"t","options":{"__proto__":{"queue":"x"}}}');
      expect(celeryError(inOptions).path).toBe('options.__proto__');
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(Object.prototype).not.toHaveProperty('queue');
    });

    it('treats a task named like an Object.prototype member as a plain task', () => {
      expect(fromCelery({ task: 'constructor' })).toStrictEqual(sig('constructor'));
      expect(fromCelery({ task: 't', options: { toString: 1, hasOwnProperty: 2 } }).options).toStrictEqual({});
    });

    it('rejects 100 000 nested dicts with a CanvasError, not a stack overflow', () => {
      let deep: unknown = { task: 't' };
      for (let i = 0; i < 100_000; i++) deep = { task: 'celery.chain', kwargs: { tasks: [deep] }, subtask_type: 'chain' };
      expect(celeryError(deep).message).toMatch(/nested deeper than 200 levels$/);
      const loop: { task: string; kwargs: { tasks: unknown[] }; subtask_type: string } = { task: 'celery.group', kwargs: { tasks: [] }, subtask_type: 'group' };
      loop.kwargs.tasks.push(loop);
      expect(celeryError(loop).message).toMatch(/circular reference$/);
    });
  });
});

describe('toCelery', () => {
  for (const name of roundTrip) {
    it(`reproduces the Celery dict exactly: ${name}`, () => {
      const dict = fixture(`roundtrip/${name}`);
      expect(toCelery(fromCelery(dict))).toStrictEqual(dict);
    });

    it(`round-trips our canvas through Celery's form: ${name}`, () => {
      const canvas = fromCelery(fixture(`roundtrip/${name}`));
      expect(fromCelery(toCelery(canvas))).toStrictEqual(canvas);
      expect(fromCelery(JSON.parse(JSON.stringify(toCelery(canvas))))).toStrictEqual(canvas);
    });
  }

  it('writes the six keys in the order Celery does', () => {
    expect(Object.keys(toCelery(add(1)))).toStrictEqual(['task', 'args', 'kwargs', 'options', 'subtask_type', 'immutable']);
  });

  it('converts a chain, group and chord to their celery.* container dicts', () => {
    const canvas: Canvas = {
      kind: 'chain',
      tasks: [{ kind: 'group', tasks: [add(1)], options: { queue: 'q' } }, { kind: 'chord', header: [add(2)], body: add(3), options: {} }],
      options: { taskId: 'c' },
    };
    const plain = (task: string, args: number[]): CelerySignatureDict => ({ task, args, kwargs: {}, options: {}, subtask_type: null, immutable: false });
    expect(toCelery(canvas)).toStrictEqual({
      task: 'celery.chain',
      args: [],
      kwargs: {
        tasks: [
          { task: 'celery.group', args: [], kwargs: { tasks: [plain('tasks.add', [1])] }, options: { queue: 'q' }, subtask_type: 'group', immutable: false },
          {
            task: 'celery.chord',
            args: [],
            kwargs: { kwargs: {}, header: [plain('tasks.add', [2])], body: plain('tasks.add', [3]) },
            options: {},
            subtask_type: 'chord',
            immutable: false,
          },
        ],
      },
      options: { task_id: 'c' },
      subtask_type: 'chain',
      immutable: false,
    });
  });

  it('converts the mapped task of a map signature to Celery form', () => {
    const map = sig('celery.map', [], { kwargs: { task: add(1) as unknown as string, it: [1, 2] }, immutable: true });
    const dict = toCelery(map);
    expect(dict.subtask_type).toBe('xmap');
    expect(dict.kwargs).toStrictEqual({ task: toCelery(add(1)), it: [1, 2] });
  });

  it('rejects a map signature whose kwargs.task is not a canvas', () => {
    const map = sig('celery.starmap', [], { kwargs: { task: 'tasks.add', it: [] } });
    expect(() => toCelery(map)).toThrow(/^kwargs\.task: expected a canvas object, got a string$/);
    expect(() => toCelery(sig('celery.map', [], { kwargs: { it: [] } }))).toThrow(/^kwargs\.task: required/);
  });

  it('validates its input first', () => {
    expect(() => toCelery({ kind: 'signature', task: '' } as Signature)).toThrow(CanvasError);
  });

  it('returns a deeply frozen dict', () => {
    const dict = toCelery({ kind: 'chain', tasks: [add(1)], options: { link: [add(2)] } });
    expect(Object.isFrozen(dict)).toBe(true);
    expect(Object.isFrozen(dict.kwargs['tasks'])).toBe(true);
    expect(Object.isFrozen((dict.options['link'] as CelerySignatureDict[])[0])).toBe(true);
  });

  // No clock here (machines are shared and noisy): a quadratic conversion, 10^10 steps for this
  // size, would run far past the test's timeout; a linear one takes a second or two.
  it('converts a 100 000-member group without a quadratic step', { timeout: 60_000 }, () => {
    const group: Group = { kind: 'group', tasks: Array.from({ length: 100_000 }, (_, i) => add(i, i)), options: {} };
    const back = fromCelery(toCelery(group));
    expect((back as Group).tasks).toHaveLength(100_000);
    expect((back as Group).tasks[99_999]).toStrictEqual(group.tasks[99_999]);
  });
});
