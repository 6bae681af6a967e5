/**
 * `GET /metrics`: the Prometheus text exposition format (version 0.0.4), written by hand. The
 * format is a few lines per sample; a client library (prom-client) would bring a global registry,
 * Node-only process metrics and an API to feed, for what is here a pure function of data the
 * monitor already holds.
 */
import type { QueueCounts, WorkerStatus } from '@celeriac/runtime';
import { EVENT_TASK_STATES, RUNTIME_BUCKETS, type TaskTable } from './task-table.js';

/** What one scrape reads. */
export interface MetricsInput {
  readonly tasks: TaskTable;
  readonly queues: readonly QueueCounts[];
  readonly workers: readonly WorkerStatus[];
}

/** The content type Prometheus expects for this format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Renders the metrics.
 *
 * @param input - the task table, queue counts and workers
 * @returns the exposition text
 */
export function renderMetrics(input: MetricsInput): string {
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  const sample = (name: string, labels: Readonly<Record<string, string>>, value: number): void => {
    const text = Object.entries(labels)
      .map(([key, label]) => `${key}="${escapeLabel(label)}"`)
      .join(',');
    out.push(`${name}${text === '' ? '' : `{${text}}`} ${formatNumber(value)}`);
  };

  family('celeriac_tasks', 'gauge', 'Tasks the monitor holds from task events, by task name and state.');
  for (const [name, byState] of [...input.tasks.countsByNameAndState()].sort(([a], [b]) => a.localeCompare(b))) {
    for (const state of EVENT_TASK_STATES) {
      const count = byState.get(state);
      if (count !== undefined) sample('celeriac_tasks', { name, state }, count);
    }
  }

  family('celeriac_events_total', 'counter', 'Task and worker events read since the monitor started, by type, task name and worker.');
  for (const [key, count] of [...input.tasks.eventCounts].sort(([a], [b]) => a.localeCompare(b))) {
    const [type = '', name = '', worker = ''] = key.split('\u0000');
    sample('celeriac_events_total', { type, task: name, worker }, count);
  }

  family('celeriac_task_runtime_seconds', 'histogram', 'How long succeeded tasks ran, by task name.');
  for (const [name, histogram] of [...input.tasks.runtimes].sort(([a], [b]) => a.localeCompare(b))) {
    let cumulative = 0;
    RUNTIME_BUCKETS.forEach((le, i) => {
      cumulative += histogram.buckets[i]!;
      sample('celeriac_task_runtime_seconds_bucket', { name, le: String(le) }, cumulative);
    });
    sample('celeriac_task_runtime_seconds_bucket', { name, le: '+Inf' }, histogram.count);
    sample('celeriac_task_runtime_seconds_sum', { name }, histogram.sum);
    sample('celeriac_task_runtime_seconds_count', { name }, histogram.count);
  }

  family('celeriac_queue_length', 'gauge', 'Jobs in each queue, by state.');
  for (const queue of input.queues) {
    for (const state of ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const) {
      sample('celeriac_queue_length', { queue: queue.name, state }, queue[state]);
    }
  }

  family('celeriac_worker_online', 'gauge', 'Whether each known worker is online (1) or offline (0), from its heartbeats.');
  for (const worker of input.workers) sample('celeriac_worker_online', { worker: worker.name }, worker.online ? 1 : 0);
  family('celeriac_workers_online', 'gauge', 'Workers online.');
  sample('celeriac_workers_online', {}, input.workers.filter((worker) => worker.online).length);
  family('celeriac_worker_active_tasks', 'gauge', 'Tasks each online worker runs now, at its last heartbeat.');
  for (const worker of input.workers) if (worker.online) sample('celeriac_worker_active_tasks', { worker: worker.name }, worker.active);

  return `${out.join('\n')}\n`;
}

/** Label values escape backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
