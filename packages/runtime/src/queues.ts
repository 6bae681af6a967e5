/**
 * The broker as operators see it: which queues exist and how many jobs each holds (the monitor's
 * broker page, `GET /api/queues/length`), and purging them (`celeriac purge`). Purging is
 * Celery's, made safe for waiters: every purged task is revoked, so no `get()` waits for a task
 * that will never run.
 */
import { isCluster, type RedisClient } from './connection.js';
import { InvalidArgumentError, RevokedError } from './errors.js';
import { toRemoteError } from './failure.js';
import { queueIdPattern, queueOfIdKey } from './keys.js';
import { scanKeys } from './scan.js';
import { isUnreadable, readReleaseJob, readTaskJob, RELEASE_JOB } from './job-data.js';
import type { Dispatcher } from './dispatch.js';
import type { Settler } from './settle.js';

/** How many jobs a queue holds, by BullMQ state. */
export interface QueueCounts {
  readonly name: string;
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly prioritized: number;
  readonly failed: number;
  readonly completed: number;
}

/** Jobs read per page while purging. */
const PURGE_PAGE = 500;
/** The BullMQ states whose jobs have not started, and so are purged. */
const NOT_STARTED = ['wait', 'delayed', 'prioritized'] as const;

/** Names of the app's queues: every queue a job was ever added to, found by BullMQ's id counters (on every master of a cluster). */
export async function queueNames(redis: RedisClient, prefix: string): Promise<string[]> {
  const cluster = isCluster(redis);
  const names = new Set<string>();
  for await (const keys of scanKeys(redis, queueIdPattern(prefix, cluster))) {
    for (const key of keys) {
      const name = queueOfIdKey(prefix, key, cluster);
      if (name !== undefined) names.add(name);
    }
  }
  return [...names].sort();
}

/** How many jobs each queue holds. */
export async function queueCounts(dispatcher: Dispatcher, names: readonly string[]): Promise<QueueCounts[]> {
  return Promise.all(
    names.map(async (name) => {
      const counts = await dispatcher.queue(name).getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
      return {
        name,
        waiting: counts['waiting'] ?? 0,
        active: counts['active'] ?? 0,
        delayed: counts['delayed'] ?? 0,
        prioritized: counts['prioritized'] ?? 0,
        failed: counts['failed'] ?? 0,
        completed: counts['completed'] ?? 0,
      };
    }),
  );
}

/**
 * Removes every job of `queues` that has not started, and revokes its task (and what follows
 * it), so waiters get a `RevokedError` rather than waiting forever. Running jobs are left alone.
 * Resolves to the number of tasks purged.
 */
export async function purgeQueues(dispatcher: Dispatcher, settler: Settler, queues: readonly string[]): Promise<number> {
  if (queues.length === 0) throw new InvalidArgumentError('queues', 'name at least one queue to purge');
  let purged = 0;
  for (const name of queues) {
    const queue = dispatcher.queue(name);
    for (;;) {
      const jobs = (await queue.getJobs([...NOT_STARTED], 0, PURGE_PAGE - 1)).filter((job) => job !== undefined);
      if (jobs.length === 0) break;
      for (const job of jobs) {
        const removed = await queue.remove(job.id!);
        if (removed !== 1) continue; // a worker took it meanwhile
        if (job.name === RELEASE_JOB) {
          const release = readReleaseJob(job.data);
          if (isUnreadable(release)) continue;
          purged += (await settler.revoke(release.workflowId, release.indices, purgedFailure(job.id!, 'release'))).length;
          continue;
        }
        const task = readTaskJob(job.data);
        if (isUnreadable(task)) continue;
        await settler.revoke(task.workflowId, [task.index], purgedFailure(task.id, task.task));
        purged++;
      }
    }
  }
  return purged;
}

function purgedFailure(id: string, task: string) {
  return toRemoteError(new RevokedError(id, `Task ${id} was purged from its queue before it ran`), { id, task });
}
