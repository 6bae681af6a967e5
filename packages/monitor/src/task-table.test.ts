import type { StoredTaskEvent } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { TaskTable } from './task-table.js';

let seq = 0;
const base = { worker: 'w1@host', pid: 1 };
function received(taskId: string, name: string, extra: Partial<Record<string, unknown>> = {}): StoredTaskEvent {
  return {
    type: 'task-received', ...base, id: `${++seq}-0`, timestamp: seq, taskId, name, args: '[1,2]', kwargs: '{}', retries: 0,
    rootId: null, parentId: null, workflowId: null, groupId: null, queue: 'default', eta: null, expires: null, ...extra,
  } as StoredTaskEvent;
}
const started = (taskId: string, name: string): StoredTaskEvent => ({ type: 'task-started', ...base, id: `${++seq}-0`, timestamp: seq, taskId, name });
const succeeded = (taskId: string, name: string, result: string, runtime = 5): StoredTaskEvent => ({ type: 'task-succeeded', ...base, id: `${++seq}-0`, timestamp: seq, taskId, name, result, runtime });
const failed = (taskId: string, name: string): StoredTaskEvent => ({
  type: 'task-failed', ...base, id: `${++seq}-0`, timestamp: seq, taskId, name, exception: 'TypeError: no <b>', traceback: 'TypeError: no\n    at x', runtime: 2,
});

describe('TaskTable', () => {
  it("folds a task's events into one record, in Flower's states", () => {
    const table = new TaskTable(10);
    table.apply(received('a', 'add', { parentId: null, workflowId: 'wf', rootId: 'a' }));
    expect(table.get('a')).toMatchObject({ state: 'RECEIVED', args: '[1,2]', workflowId: 'wf', queue: 'default' });
    table.apply(started('a', 'add'));
    expect(table.get('a')!.state).toBe('STARTED');
    table.apply(succeeded('a', 'add', '3', 7));
    expect(table.get('a')).toMatchObject({ state: 'SUCCESS', result: '3', runtime: 7, worker: 'w1@host' });
    table.apply(received('b', 'add', { parentId: 'a' }));
    expect(table.get('a')!.children).toEqual(['b']);
    table.apply(failed('b', 'add'));
    expect(table.get('b')).toMatchObject({ state: 'FAILURE', exception: 'TypeError: no <b>', traceback: 'TypeError: no\n    at x' });
    expect(table.taskNames).toEqual(['add']);
    expect(table.taskEvents).toBe(5);
    expect(table.lastEventId).toBe(`${seq}-0`);
  });

  it('does not let an older received or started event undo an end', () => {
    const table = new TaskTable(10);
    table.apply(succeeded('a', 'add', '1'));
    const stale = { ...started('a', 'add'), timestamp: 0 } as StoredTaskEvent;
    table.apply(stale);
    expect(table.get('a')!.state).toBe('SUCCESS');
    // A retry received later runs it again.
    table.apply(received('a', 'add', { retries: 1 }));
    expect(table.get('a')).toMatchObject({ state: 'RECEIVED', retries: 1 });
  });

  it('forgets the oldest tasks beyond maxTasks', () => {
    const table = new TaskTable(3);
    for (const id of ['t1', 't2', 't3', 't4', 't5']) table.apply(received(id, 'add'));
    expect(table.size).toBe(3);
    expect(table.get('t1')).toBeUndefined();
    expect(table.query().tasks.map((t) => t.id)).toEqual(['t5', 't4', 't3']);
  });

  it('filters by state, name, worker and text, newest first, with a total for the pager', () => {
    const table = new TaskTable(100);
    for (let i = 0; i < 30; i++) {
      const id = `task-${i}`;
      table.apply(received(id, i % 3 === 0 ? 'mul' : 'add', { args: `["needle-${i}"]` }));
      if (i % 2 === 0) table.apply(succeeded(id, i % 3 === 0 ? 'mul' : 'add', i === 4 ? '"FOUND"' : '0'));
    }
    const page = table.query({ limit: 5, offset: 5 });
    expect(page.total).toBe(30);
    expect(page.tasks.map((t) => t.id)).toEqual(['task-24', 'task-23', 'task-22', 'task-21', 'task-20']);
    expect(table.query({ states: ['success'], name: 'mul' }).tasks.map((t) => t.id)).toEqual(['task-24', 'task-18', 'task-12', 'task-6', 'task-0']);
    expect(table.query({ search: 'found' }).tasks.map((t) => t.id)).toEqual(['task-4']);
    expect(table.query({ search: 'NEEDLE-17' }).total).toBe(1);
    expect(table.query({ worker: 'other' }).total).toBe(0);
    expect(table.query({ sortBy: 'name', limit: 1 }).tasks[0]!.name).toBe('add');
    expect(table.query({ sortBy: '-name', limit: 1 }).tasks[0]!.name).toBe('mul');
    // Nulls last either way.
    expect(table.query({ sortBy: '-runtime' }).tasks.at(-1)!.runtime).toBeNull();
    expect(table.query({ sortBy: 'runtime' }).tasks.at(-1)!.runtime).toBeNull();
  });
});
