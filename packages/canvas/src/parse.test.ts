import { describe, expect, it } from 'vitest';
import { CanvasError } from './errors.js';
import { group } from './group.js';
import { MAX_DEPTH } from './json.js';
import { parseCanvas } from './parse.js';
import { signature } from './signature.js';
import type { Canvas, Chord, Group, Signature } from './types.js';

const add = (...args: unknown[]): Record<string, unknown> => ({ kind: 'signature', task: 'add', args });

/** Asserts that parsing throws a CanvasError with exactly this path and message. */
function rejects(value: unknown, path: string, message: string | RegExp): void {
  let error: unknown;
  try {
    parseCanvas(value);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CanvasError);
  const canvasError = error as CanvasError;
  expect(canvasError.path).toBe(path);
  expect(canvasError.code).toBe('CANVAS_INVALID');
  if (typeof message === 'string') expect(canvasError.message).toBe(path === '' ? message : `${path}: ${message}`);
  else expect(canvasError.message).toMatch(message);
}

function asSignature(canvas: Canvas | undefined): Signature {
  if (canvas?.kind !== 'signature') throw new Error(`expected a signature, got ${canvas?.kind}`);
  return canvas;
}

function isDeeplyFrozen(value: unknown, seen = new Set<unknown>()): boolean {
  if (typeof value !== 'object' || value === null || seen.has(value)) return true;
  seen.add(value);
  return Object.isFrozen(value) && Object.values(value).every((v) => isDeeplyFrozen(v, seen));
}

describe('parseCanvas', () => {
  describe('valid input', () => {
    it('fills in the defaults of a minimal signature', () => {
      expect(parseCanvas({ kind: 'signature', task: 'add' })).toStrictEqual({
        kind: 'signature',
        task: 'add',
        args: [],
        kwargs: {},
        options: {},
        immutable: false,
      });
    });

    it('keeps every field of each canvas kind', () => {
      const canvas: Canvas = {
        kind: 'chord',
        header: [
          {
            kind: 'group',
            tasks: [
              { kind: 'signature', task: 'add', args: [1, 'x', null, true, { a: [1.5] }], kwargs: { z: 1 }, options: {}, immutable: true },
              { kind: 'chain', tasks: [], options: { queue: 'q' } },
            ],
            options: { priority: 3 },
          },
        ],
        body: { kind: 'signature', task: 'tsum', args: [], kwargs: {}, options: { taskId: 'body-1' }, immutable: false },
        options: { countdown: 5 },
      };
      expect(parseCanvas(canvas)).toStrictEqual(canvas);
    });

    it('round-trips through JSON unchanged', () => {
      const parsed = parseCanvas({ kind: 'chain', tasks: [add(2, 2), add(4)], options: { maxRetries: 2 } });
      expect(JSON.parse(JSON.stringify(parsed))).toStrictEqual(parsed);
    });

    it('turns -0, which JSON cannot hold, into 0', () => {
      const parsed = asSignature(parseCanvas({ kind: 'signature', task: 'add', args: [-0, { x: -0 }] }));
      expect(parsed.args).toStrictEqual([0, { x: 0 }]);
      expect(JSON.parse(JSON.stringify(parsed))).toStrictEqual(parsed);
    });

    it('returns a deeply frozen copy that shares nothing with the input', () => {
      const args = [1, { deep: [2] }];
      const input = { kind: 'group', tasks: [{ kind: 'signature', task: 'add', args }], options: {} };
      const parsed = parseCanvas(input);
      expect(isDeeplyFrozen(parsed)).toBe(true);
      expect(Object.isFrozen(input)).toBe(false);
      const sig = asSignature((parsed as Group).tasks[0]);
      expect(sig.args).not.toBe(args);
      expect(sig.args[1]).not.toBe(args[1]);
      args.push(3);
      expect(sig.args).toHaveLength(2);
    });

    it('parses link and linkError canvases recursively', () => {
      const parsed = parseCanvas({
        kind: 'signature',
        task: 'add',
        options: { link: [add(1)], linkError: [{ kind: 'chain', tasks: [{ kind: 'signature', task: 'log' }] }] },
      });
      expect(parsed.options.link?.[0]).toStrictEqual({ kind: 'signature', task: 'add', args: [1], kwargs: {}, options: {}, immutable: false });
      expect(parsed.options.linkError?.[0]).toMatchObject({ kind: 'chain', tasks: [{ task: 'log', args: [] }] });
    });

    it('accepts every option at its documented limits', () => {
      const options = {
        queue: 'math',
        priority: 2_097_152,
        countdown: 0,
        eta: '2026-01-01T10:00:00.123456+00:00',
        expires: '2026-01-02',
        maxRetries: 0,
        backoff: { type: 'exponential', delay: 1, maxDelay: 600, jitter: true },
        taskId: 'a1b2-c3d4',
        timeLimit: 10,
        softTimeLimit: 10,
        ignoreResult: true,
        link: [],
        linkError: [],
      };
      expect(parseCanvas({ kind: 'signature', task: 'add', options }).options).toStrictEqual(options);
      expect(parseCanvas({ kind: 'signature', task: 'add', options: { expires: 30, priority: 1 } }).options).toStrictEqual({ expires: 30, priority: 1 });
    });

    it('accepts an object created without a prototype', () => {
      const node = Object.assign(Object.create(null) as object, { kind: 'signature', task: 'add' });
      expect(parseCanvas(node)).toMatchObject({ task: 'add' });
    });
  });

  describe('node structure', () => {
    it('rejects a missing kind', () => {
      rejects({ task: 'add' }, 'kind', 'required: expected "signature", "chain", "group" or "chord"');
    });

    it('rejects an unknown kind and names where it is', () => {
      rejects({ kind: 'group', tasks: [add(1), { kind: 'map', task: 'x' }] }, 'tasks[1].kind', 'expected "signature", "chain", "group" or "chord", got "map"');
    });

    it('rejects a root that is not an object', () => {
      rejects(null, '', 'expected a canvas object, got null');
      rejects([add(1)], '', 'expected a canvas object, got an array');
      rejects('add', '', 'expected a canvas object, got a string');
    });

    it('rejects a missing or empty task name', () => {
      rejects({ kind: 'signature' }, 'task', 'expected a task name, got undefined');
      rejects({ kind: 'chain', tasks: [{ kind: 'signature', task: '' }] }, 'tasks[0].task', 'expected a task name, got an empty string');
      rejects({ kind: 'signature', task: 7 }, 'task', 'expected a task name, got a number');
    });

    it('names the path of a wrongly typed field deep inside the canvas', () => {
      rejects({ kind: 'chain', tasks: [add(1), add(2), { kind: 'signature', task: 'add', args: 'nope' }] }, 'tasks[2].args', 'expected an array, got a string');
      rejects({ kind: 'signature', task: 'add', kwargs: [] }, 'kwargs', 'expected an object, got an array');
      rejects({ kind: 'signature', task: 'add', immutable: 'yes' }, 'immutable', 'expected a boolean, got a string');
      rejects({ kind: 'group', tasks: {} }, 'tasks', 'expected an array of canvases, got an object');
    });

    it('requires the children of containers', () => {
      rejects({ kind: 'chain' }, 'tasks', 'required: expected an array of canvases');
      rejects({ kind: 'chord', body: add(1) }, 'header', 'required: expected an array of canvases');
      rejects({ kind: 'chord', header: [] }, 'body', 'required: expected a canvas object');
      rejects({ kind: 'chord', header: [], body: null }, 'body', 'expected a canvas object, got null');
    });

    it('rejects unknown fields, listing the known ones', () => {
      rejects({ kind: 'signature', task: 'add', arg: [] }, 'arg', 'unknown field of a signature "arg"; expected one of: kind, task, args, kwargs, options, immutable');
      rejects({ kind: 'group', tasks: [], immutable: true }, 'immutable', 'unknown field of a group "immutable"; expected one of: kind, tasks, options');
      rejects({ kind: 'chord', header: [], body: add(1), tasks: [] }, 'tasks', /unknown field of a chord "tasks"; expected one of: kind, header, body, options$/);
    });
  });

  describe('JSON arguments', () => {
    const cases: [string, unknown, string][] = [
      ['a function', () => 1, 'expected JSON, got a function'],
      ['a symbol', Symbol('s'), 'expected JSON, got a symbol'],
      ['a bigint', 10n, 'expected JSON, got a bigint'],
      ['undefined', undefined, 'expected JSON, got undefined'],
      ['NaN', Number.NaN, 'expected JSON, got NaN'],
      ['Infinity', Number.POSITIVE_INFINITY, 'expected JSON, got Infinity'],
      ['-Infinity', Number.NEGATIVE_INFINITY, 'expected JSON, got -Infinity'],
      ['a Date', new Date(0), 'expected JSON, got a Date'],
      ['a Map', new Map(), 'expected JSON, got a Map'],
      ['a Set', new Set(), 'expected JSON, got a Set'],
      ['a class instance', new (class Point { x = 1 })(), 'expected JSON, got an instance of Point'],
      ['a boxed string', Object('x'), 'expected JSON, got a String'],
      ['a typed array', new Uint8Array(2), 'expected JSON, got a Uint8Array'],
    ];
    for (const [name, value, message] of cases) {
      it(`rejects ${name} in args and in nested kwargs`, () => {
        rejects({ kind: 'signature', task: 'add', args: [1, value] }, 'args[1]', message);
        rejects(
          { kind: 'chord', header: [{ kind: 'signature', task: 'a', kwargs: { x: { y: [value] } } }], body: add() },
          'header[0].kwargs.x.y[0]',
          message,
        );
      });
    }

    it('names a function in a nested chord body by its JSON path', () => {
      const inner = { kind: 'chord', header: [add(1)], body: { kind: 'signature', task: 'b', kwargs: { x: () => 0 } } };
      rejects({ kind: 'chord', header: [inner], body: add() }, 'header[0].body.kwargs.x', 'expected JSON, got a function');
    });

    it('quotes keys that are not identifiers in the path', () => {
      rejects({ kind: 'signature', task: 'add', kwargs: { 'my key': [undefined] } }, 'kwargs["my key"][0]', 'expected JSON, got undefined');
    });

    it('rejects sparse arrays, which JSON would turn into nulls', () => {
      // eslint-disable-next-line no-sparse-arrays
      rejects({ kind: 'signature', task: 'add', args: [1, , 3] }, 'args[1]', 'expected JSON, got an empty slot (sparse array)');
    });

    it('rejects symbol-keyed properties', () => {
      rejects({ kind: 'signature', task: 'add', kwargs: { [Symbol('k')]: 1 } }, 'kwargs', /symbol key/);
    });

    it('rejects a circular argument without overflowing the stack', () => {
      const loop: unknown[] = [1];
      loop.push(loop);
      expect(() => parseCanvas({ kind: 'signature', task: 'add', args: [loop] })).toThrow(/^args\[0\]\[1\]\[1\].*: circular reference$/);
    });

    it('rejects a circular canvas', () => {
      const group: { kind: string; tasks: unknown[] } = { kind: 'group', tasks: [] };
      group.tasks.push(group);
      expect(() => parseCanvas(group)).toThrow(/circular reference/);
    });

    it('accepts the same argument object used twice (shared, not circular)', () => {
      const shared = { a: 1 };
      expect(asSignature(parseCanvas({ kind: 'signature', task: 'add', args: [shared, shared] })).args).toStrictEqual([{ a: 1 }, { a: 1 }]);
    });
  });

  describe('nesting depth', () => {
    it(`accepts nesting up to ${MAX_DEPTH} levels`, () => {
      let deep: unknown = 1;
      for (let i = 0; i < MAX_DEPTH - 2; i++) deep = [deep]; // + the signature + its args array
      expect(() => parseCanvas({ kind: 'signature', task: 'add', args: [deep] })).not.toThrow();
    });

    it('rejects one level more', () => {
      let deep: unknown = 1;
      for (let i = 0; i < MAX_DEPTH - 1; i++) deep = [deep];
      expect(() => parseCanvas({ kind: 'signature', task: 'add', args: [deep] })).toThrow(`nested deeper than ${MAX_DEPTH} levels`);
    });

    it('rejects 100 000 nested JSON arrays with a CanvasError, not a stack overflow', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 100_000; i++) deep = [deep];
      expect(() => parseCanvas({ kind: 'signature', task: 'add', args: [deep] })).toThrow(CanvasError);
    });

    it('rejects 100 000 nested chords with a CanvasError, not a stack overflow', () => {
      let deep: unknown = add(1);
      for (let i = 0; i < 100_000; i++) deep = { kind: 'chord', header: [], body: deep };
      expect(() => parseCanvas(deep)).toThrow(new RegExp(`^body\\.body.*nested deeper than ${MAX_DEPTH} levels$`));
    });

    it('counts canvas nesting through link callbacks', () => {
      let deep: unknown = add(1);
      for (let i = 0; i < 100_000; i++) deep = { kind: 'signature', task: 'a', options: { link: [deep] } };
      expect(() => parseCanvas(deep)).toThrow(CanvasError);
    });
  });

  describe('prototype pollution', () => {
    it('rejects __proto__ in kwargs and never touches Object.prototype', () => {
      const payload: unknown = JSON.parse('{"kind":"signature","task":"add","kwargs":{"__proto__":{"polluted":1}}}');
      rejects(payload, 'kwargs.__proto__', 'the key "__proto__" is not allowed (it could pollute prototypes)');
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('rejects __proto__ at every level: args, kwargs, node fields, options, backoff', () => {
      const payloads: [string, string][] = [
        ['{"kind":"signature","task":"add","args":[1,{"a":{"__proto__":{"polluted":1}}}]}', 'args[1].a.__proto__'],
        ['{"kind":"signature","task":"add","kwargs":{"a":[{"__proto__":1}]}}', 'kwargs.a[0].__proto__'],
        ['{"kind":"group","tasks":[{"kind":"signature","task":"add","__proto__":{"polluted":1}}]}', 'tasks[0].__proto__'],
        ['{"kind":"signature","task":"add","options":{"__proto__":{"queue":"x"}}}', 'options.__proto__'],
        ['{"kind":"signature","task":"add","options":{"backoff":{"type":"fixed","delay":1,"__proto__":{}}}}', 'options.backoff.__proto__'],
      ];
      for (const [json, path] of payloads) {
        rejects(JSON.parse(json), path, 'the key "__proto__" is not allowed (it could pollute prototypes)');
      }
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(Object.prototype).not.toHaveProperty('queue');
    });

    it('rejects a constructor key holding an object or array, the way a naive deep merge reaches Object.prototype', () => {
      const message =
        'the key "constructor" cannot hold an object or array (a naive deep merge would follow it to Object.prototype); rename the key';
      rejects(JSON.parse('{"kind":"signature","task":"add","kwargs":{"constructor":{"prototype":{"polluted":1}}}}'), 'kwargs.constructor', message);
      rejects(JSON.parse('{"kind":"signature","task":"add","args":[{"a":{"constructor":[1]}}]}'), 'args[0].a.constructor', message);
      rejects(JSON.parse('{"kind":"signature","task":"add","args":[{"constructor":{}}]}'), 'args[0].constructor', message);
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('accepts constructor holding a plain value, and prototype keys, as ordinary data', () => {
      const kwargs = { constructor: 1, prototype: { polluted: 1 }, nested: { constructor: 'Point', x: null } };
      const args: unknown[] = [{ constructor: null }, { constructor: true }, { prototype: [1, 2] }];
      const parsed = asSignature(parseCanvas(JSON.parse(JSON.stringify({ kind: 'signature', task: 'add', args, kwargs }))));
      expect(parsed.kwargs).toStrictEqual(kwargs);
      expect(parsed.args).toStrictEqual(args);
      expect(Object.getOwnPropertyDescriptor(parsed.kwargs, 'constructor')).toMatchObject({ value: 1, enumerable: true });
      expect(JSON.parse(JSON.stringify(parsed))).toStrictEqual(parsed);
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('names constructor and prototype on a node or in options as unknown fields, not as pollution', () => {
      rejects({ kind: 'signature', task: 'add', constructor: 1 }, 'constructor', /^constructor: unknown field of a signature "constructor"/);
      rejects({ kind: 'signature', task: 'add', options: { prototype: 'q' } }, 'options.prototype', /^options\.prototype: unknown option "prototype"/);
    });

    it('lets nothing it accepts pollute Object.prototype through a naive deep merge', () => {
      // The kind of merge that prototype-pollution attacks target: it follows every key it is given.
      const naiveMerge = (target: Record<string, unknown>, source: Readonly<Record<string, unknown>>): void => {
        for (const key in source) {
          const value = source[key];
          if (typeof value === 'object' && value !== null) {
            if (typeof target[key] !== 'object' && typeof target[key] !== 'function') target[key] = {};
            naiveMerge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
          } else {
            target[key] = value;
          }
        }
      };
      const accepted = asSignature(parseCanvas(JSON.parse(
        '{"kind":"signature","task":"add","kwargs":{"constructor":1,"prototype":{"polluted":1},"a":{"prototype":{"polluted":2}}}}',
      )));
      naiveMerge({}, accepted.kwargs);
      expect(Object.prototype).not.toHaveProperty('polluted');
      // The pair that is refused is exactly what this merge follows to Object.prototype.
      const refused = JSON.parse('{"constructor":{"prototype":{"polluted":3}}}') as Record<string, unknown>;
      expect(() => parseCanvas({ kind: 'signature', task: 'add', kwargs: refused })).toThrow(CanvasError);
      try {
        naiveMerge({}, refused);
        expect(({} as Record<string, unknown>)['polluted']).toBe(3);
      } finally {
        delete (Object.prototype as Record<string, unknown>)['polluted'];
      }
    });

    it('ignores fields inherited from a polluted prototype', () => {
      const proto = Object.prototype as Record<string, unknown>;
      proto['args'] = ['injected'];
      try {
        expect(asSignature(parseCanvas({ kind: 'signature', task: 'add' })).args).toStrictEqual([]);
      } finally {
        delete proto['args'];
      }
    });
  });

  describe('options', () => {
    const sig = (options: unknown): unknown => ({ kind: 'signature', task: 'add', options });

    it('rejects unknown options, listing the known ones', () => {
      rejects(
        sig({ queu: 'math' }),
        'options.queu',
        'unknown option "queu"; expected one of: queue, priority, countdown, eta, expires, maxRetries, backoff, taskId, timeLimit, softTimeLimit, ignoreResult, link, linkError',
      );
    });

    it('rejects Celery snake_case names in our format', () => {
      rejects(sig({ task_id: 'x' }), 'options.task_id', /^options\.task_id: unknown option "task_id"/);
    });

    const invalid: [string, unknown, string][] = [
      ['queue', '', 'expected a non-empty queue name, got ""'],
      ['queue', 3, 'expected a non-empty queue name, got 3'],
      ['queue', 'a:b', 'queue names cannot contain ":" (got "a:b")'],
      ['priority', 0, 'expected an integer from 1 (highest) to 2097152, got 0'],
      ['priority', 2_097_153, 'expected an integer from 1 (highest) to 2097152, got 2097153'],
      ['priority', 1.5, 'expected an integer from 1 (highest) to 2097152, got 1.5'],
      ['countdown', -1, 'expected a number >= 0 (seconds), got -1'],
      ['countdown', '5', 'expected a number >= 0 (seconds), got "5"'],
      ['eta', 'tomorrow', 'expected an ISO-8601 date string, got "tomorrow"'],
      ['eta', '2026-02-30T00:00:00Z', 'expected an ISO-8601 date string, got "2026-02-30T00:00:00Z"'],
      ['eta', '2026-01-01T25:00:00Z', 'expected an ISO-8601 date string, got "2026-01-01T25:00:00Z"'],
      ['eta', 1_700_000_000, 'expected an ISO-8601 date string, got a number'],
      ['expires', -5, 'expected a number >= 0 (seconds or an ISO-8601 date), got -5'],
      ['expires', 'soon', 'expected an ISO-8601 date string, got "soon"'],
      ['maxRetries', -1, 'expected an integer >= 0, or null for no limit, got -1'],
      ['maxRetries', 2.5, 'expected an integer >= 0, or null for no limit, got 2.5'],
      ['retries', 2, 'unknown option "retries"; expected one of: queue, priority, countdown, eta, expires, maxRetries, backoff, taskId, timeLimit, softTimeLimit, ignoreResult, link, linkError'],
      ['taskId', '', 'expected a non-empty id string, got ""'],
      ['taskId', 'wf:1', 'ids cannot contain ":", "{", "}", whitespace or control characters (got "wf:1")'],
      ['taskId', '{slot}', 'ids cannot contain ":", "{", "}", whitespace or control characters (got "{slot}")'],
      ['taskId', 'a b', 'ids cannot contain ":", "{", "}", whitespace or control characters (got "a b")'],
      ['taskId', 'x'.repeat(201), 'ids are at most 200 characters, got 201'],
      ['taskId', '0', '"0" is reserved: a task id is its BullMQ job id, and BullMQ refuses job id 0'],
      ['timeLimit', 0, 'expected a number of seconds > 0, got 0'],
      ['softTimeLimit', -1, 'expected a number of seconds > 0, got -1'],
      ['ignoreResult', 'yes', 'expected a boolean, got a string'],
      ['link', add(1), 'expected an array of canvases, got an object'],
      ['backoff', 'exponential', 'expected a backoff object { type, delay, maxDelay?, jitter? }, got a string'],
    ];
    for (const [name, value, message] of invalid) {
      it(`rejects ${name} = ${JSON.stringify(value)?.slice(0, 20) ?? String(value)}`, () => {
        rejects(sig({ [name]: value }), `options.${name}`, message);
      });
    }

    it('rejects a soft time limit above the hard one', () => {
      rejects(sig({ timeLimit: 5, softTimeLimit: 10 }), 'options.softTimeLimit', 'must not exceed timeLimit (got 10 > 5)');
    });

    it('validates backoff fields', () => {
      rejects(sig({ backoff: { delay: 1 } }), 'options.backoff.type', 'required: expected "fixed" or "exponential"');
      rejects(sig({ backoff: { type: 'linear', delay: 1 } }), 'options.backoff.type', 'expected "fixed" or "exponential", got "linear"');
      rejects(sig({ backoff: { type: 'fixed' } }), 'options.backoff.delay', 'expected a number >= 0 (seconds), got undefined');
      rejects(sig({ backoff: { type: 'exponential', delay: 10, maxDelay: 5 } }), 'options.backoff.maxDelay', 'must be >= delay (got 5 < 10)');
      rejects(sig({ backoff: { type: 'fixed', delay: 1, jitter: 1 } }), 'options.backoff.jitter', 'expected a boolean, got a number');
      rejects(sig({ backoff: { type: 'fixed', delay: 1, max: 2 } }), 'options.backoff.max', 'unknown backoff field "max"; expected one of: type, delay, maxDelay, jitter');
    });

    it('names the path of a bad option inside a link callback', () => {
      rejects(sig({ link: [add(1), { kind: 'signature', task: 'cb', options: { priority: -3 } }] }), 'options.link[1].options.priority', /got -3$/);
    });

    it('validates options on containers too', () => {
      rejects({ kind: 'chord', header: [], body: add(1), options: { countdown: Number.NaN } }, 'options.countdown', 'expected a number >= 0 (seconds), got NaN');
    });
  });

  describe('performance', () => {
    // No clock here (machines are shared and noisy): a quadratic copy would run far past the
    // test's timeout; a linear parse takes a fraction of a second.
    it('parses a 100 000-member group without a quadratic step', { timeout: 60_000 }, () => {
      const tasks = Array.from({ length: 100_000 }, (_, i) => ({ kind: 'signature', task: 'add', args: [i, i], kwargs: { z: i }, options: {}, immutable: false }));
      const parsed = parseCanvas({ kind: 'group', tasks, options: {} });
      expect((parsed as Group).tasks).toHaveLength(100_000);
    });
  });

  it('returns the parsed type a chord was given as', () => {
    const chord = parseCanvas({ kind: 'chord', header: [add(1)], body: add(2) }) as Chord;
    expect(chord.header).toHaveLength(1);
    expect(chord.body).toMatchObject({ task: 'add', args: [2] });
  });
});

describe('parseCanvas on values it can trust', () => {
  it('returns a canvas the builders made as is, without copying it', () => {
    const built = group(Array.from({ length: 3 }, (_, i) => signature('add', [i, i])));
    expect(parseCanvas(built)).toBe(built);
  });

  it('returns its own earlier result as is, and still copies plain input', () => {
    const raw = { kind: 'signature', task: 'add', args: [1] };
    const parsed = parseCanvas(raw);
    expect(parsed).not.toBe(raw);
    expect(parseCanvas(parsed)).toBe(parsed);
    expect(parseCanvas({ ...raw })).not.toBe(parsed);
  });
});
