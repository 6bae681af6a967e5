import { describe, expect, it } from 'vitest';
import { chain } from './chain.js';
import { chord } from './chord.js';
import { CanvasError } from './errors.js';
import { group } from './group.js';
import { signature, withOptions } from './signature.js';
import type { Signature, TaskOptions } from './types.js';

const s = (task: string, options: TaskOptions = {}) => signature(task, [], {}, options);
const sig = (task: string, options: TaskOptions = {}) =>
  ({ kind: 'signature', task, args: [], kwargs: {}, options, immutable: false }) satisfies Signature;

describe('withOptions', () => {
  it('sets options on a signature', () => {
    expect(withOptions(s('a'), { queue: 'math', countdown: 5 })).toStrictEqual(sig('a', { queue: 'math', countdown: 5 }));
  });

  it('merges new options over the existing ones, the new ones winning', () => {
    expect(withOptions(s('a', { priority: 5, queue: 'old' }), { queue: 'new' })).toStrictEqual(
      sig('a', { priority: 5, queue: 'new' }),
    );
  });

  it('drops keys whose value is undefined, so they do not override', () => {
    const options = { priority: undefined, queue: 'q' } as unknown as TaskOptions;
    expect(withOptions(s('a', { priority: 5 }), options)).toStrictEqual(sig('a', { priority: 5, queue: 'q' }));
  });

  it('replaces a link list rather than appending to it, like Celery\'s set()', () => {
    expect(withOptions(s('a', { link: [s('x')] }), { link: [s('y')] })).toStrictEqual(sig('a', { link: [sig('y')] }));
  });

  it('keeps a container\'s options on the container, not on its members', () => {
    expect(withOptions(chain(s('a'), s('b')), { queue: 'q' })).toStrictEqual({
      kind: 'chain',
      tasks: [sig('a'), sig('b')],
      options: { queue: 'q' },
    });
    expect(withOptions(group(s('a'), s('b')), { priority: 2 })).toStrictEqual({
      kind: 'group',
      tasks: [sig('a'), sig('b')],
      options: { priority: 2 },
    });
    expect(withOptions(chord([s('a')], s('b')), { taskId: 'c1' })).toStrictEqual({
      kind: 'chord',
      header: [sig('a')],
      body: sig('b'),
      options: { taskId: 'c1' },
    });
  });

  it('leaves the canvas it was given unchanged', () => {
    const before = s('a', { priority: 5 });
    withOptions(before, { priority: 1 });
    expect(before).toStrictEqual(sig('a', { priority: 5 }));
  });

  it('rejects invalid options with a CanvasError naming the option', () => {
    expect(() => withOptions(s('a'), { priority: 0 })).toThrow(CanvasError);
    expect(() => withOptions(s('a'), { priority: 0 })).toThrow(/options\.priority: expected an integer/);
    expect(() => withOptions(s('a'), 'fast' as unknown as TaskOptions)).toThrow(/options: expected an options object/);
  });

  it('rejects a __proto__ key in options and leaves Object.prototype alone', () => {
    const payload = JSON.parse('{"__proto__": {"queue": "polluted"}}') as TaskOptions;
    expect(() => withOptions(s('a'), payload)).toThrow(/the key "__proto__" is not allowed/);
    expect(({} as TaskOptions).queue).toBeUndefined();
  });

  it('rejects a merge that breaks a rule across options (softTimeLimit above timeLimit)', () => {
    expect(() => withOptions(s('a', { timeLimit: 10 }), { softTimeLimit: 20 })).toThrow(CanvasError);
  });
});
