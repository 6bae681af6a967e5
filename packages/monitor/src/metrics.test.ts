import type { QueueCounts, StoredTaskEvent, WorkerStatus } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { renderMetrics } from './metrics.js';
import { TaskTable } from './task-table.js';

describe('renderMetrics', () => {
  it('writes the Prometheus text format: tasks by name and state, a cumulative runtime histogram, queues, workers', () => {
    const table = new TaskTable(10);
    const event = (type: string, taskId: string, extra: object): StoredTaskEvent =>
      ({ type, worker: 'w"1\\x', pid: 1, timestamp: 1, id: `${taskId}-${type}`, taskId, name: 'add\nx', ...extra }) as StoredTaskEvent;
    table.apply(event('task-succeeded', 'a', { result: '1', runtime: 3 }));
    table.apply(event('task-succeeded', 'b', { result: '1', runtime: 700 }));
    table.apply(event('task-failed', 'c', { exception: 'E', traceback: '', runtime: null }));
    const queues: QueueCounts[] = [{ name: 'default', waiting: 4, active: 1, delayed: 0, prioritized: 2, failed: 3, completed: 9 }];
    const workers = [
      { name: 'w1', online: true, active: 2 },
      { name: 'w2', online: false, active: 0 },
    ] as WorkerStatus[];
    const text = renderMetrics({ tasks: table, queues, workers });
    const lines = text.split('\n');
    expect(lines).toContain('# TYPE celeriac_tasks gauge');
    // Label values escape backslashes, quotes and newlines.
    expect(lines).toContain('celeriac_tasks{name="add\\nx",state="SUCCESS"} 2');
    expect(lines).toContain('celeriac_tasks{name="add\\nx",state="FAILURE"} 1');
    expect(lines).toContain('celeriac_events_total{type="task-succeeded",task="add\\nx",worker="w\\"1\\\\x"} 2');
    expect(lines).toContain('# TYPE celeriac_task_runtime_seconds histogram');
    expect(lines).toContain('celeriac_task_runtime_seconds_bucket{name="add\\nx",le="0.005"} 1');
    expect(lines).toContain('celeriac_task_runtime_seconds_bucket{name="add\\nx",le="0.5"} 1');
    expect(lines).toContain('celeriac_task_runtime_seconds_bucket{name="add\\nx",le="1"} 2');
    expect(lines).toContain('celeriac_task_runtime_seconds_bucket{name="add\\nx",le="+Inf"} 2');
    expect(lines).toContain('celeriac_task_runtime_seconds_sum{name="add\\nx"} 0.703');
    expect(lines).toContain('celeriac_task_runtime_seconds_count{name="add\\nx"} 2');
    expect(lines).toContain('celeriac_queue_length{queue="default",state="waiting"} 4');
    expect(lines).toContain('celeriac_queue_length{queue="default",state="prioritized"} 2');
    expect(lines).toContain('celeriac_worker_online{worker="w1"} 1');
    expect(lines).toContain('celeriac_worker_online{worker="w2"} 0');
    expect(lines).toContain('celeriac_workers_online 1');
    expect(text.endsWith('\n')).toBe(true);
    // Every sample line is `name{labels} value` or `name value`.
    for (const line of lines.filter((l) => l !== '' && !l.startsWith('#'))) expect(line).toMatch(/^[a-z_]+(\{.*\})? -?[\d.e+]+$|^[a-z_]+(\{.*\})? \+Inf$/);
  });
});
