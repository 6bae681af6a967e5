import { group, signature, compile, withOptions } from '@celeriac/canvas';
import { describe, expect, it } from 'vitest';
import { decodeSpec, encodeSpec, freeze, nodeId, type NodeSpec } from './plan.js';

const plain: NodeSpec = { id: 'w.1', task: 'add', args: [1, 2], kwargs: {}, options: {}, input: null, rootId: 'w.0', role: 'task' };

describe('stored specs', () => {
  it('leave out the fields that hold their default value and get them back when read', () => {
    const text = encodeSpec(plain);
    expect(JSON.parse(text)).toEqual({ id: 'w.1', task: 'add', args: [1, 2], rootId: 'w.0' });
    expect(decodeSpec(text)).toEqual(plain);
  });

  it('keep every field that differs from its default', () => {
    const full: NodeSpec = { ...plain, kwargs: { z: 1 }, options: { queue: 'q' }, input: { l: [{ n: 0 }] }, role: 'callback', groupId: 'g', groupIndex: 3 };
    expect(decodeSpec(encodeSpec(full))).toEqual(full);
  });
});

describe('freeze', () => {
  it('builds specs on demand, with derived ids that the meta does not store', () => {
    const plan = freeze(compile(withOptions(group(signature('add', [1, 1]), signature('add', [2, 2])), { taskId: 'wf' })), () => undefined)!;
    expect(plan.meta.nodes).toEqual([{ task: 'add' }, { task: 'add' }]);
    expect(plan.meta.nodes[0]).toBe(plan.meta.nodes[1]); // one shared object per task name
    expect(plan.spec(1)).toMatchObject({ id: 'wf.1', args: [2, 2], groupId: 'wf', groupIndex: 1 });
    expect(nodeId(plan.meta, 1)).toBe('wf.1');
  });

  it('rejects a chosen taskId that is another node\'s derived id', () => {
    const canvas = withOptions(group(withOptions(signature('add'), { taskId: 'wf.1' }), signature('add')), { taskId: 'wf' });
    expect(() => freeze(compile(canvas), () => undefined)).toThrow(/taskId "wf.1" is the id of another task/);
  });
});
