/**
 * The plain-BullMQ side of the benchmark: the same workloads hand-written the way the BullMQ docs
 * suggest, as the baseline Celeriac is measured against (issue 5):
 * - a chain hop is a worker that adds the next job from inside its processor (deterministic job
 *   ids, as Celeriac's, so a redelivery cannot add a step twice);
 * - a group is one `addBulk` (in slices of 10 000) consumed with concurrency 50;
 * - a chord is a FlowProducer flow: one parent `sum` job with the header as its children;
 * - the producer learns about completions from `QueueEvents` ('completed' carries the return value),
 *   which is BullMQ's way to wait for results from another process;
 * - a lone task is `queue.add` with BullMQ's defaults (its own auto-increment id), and waiting for
 *   it is `job.waitUntilFinished(queueEvents)`, as BullMQ's docs show;
 * - in one process, the producer and the worker share one connection and one `Queue`.
 */
import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { WORKER_CONCURRENCY, type Consumer, type Producer, type System } from './driver.js';
import {
  MIXED_CHAIN_STEPS,
  MIXED_GROUP_SIZE,
  MIXED_SHAPES,
  chainValue,
  checkGroup,
  checkValue,
  headerSum,
  memberValue,
  type Workload,
} from './workload.js';

const QUEUE = 'bench';
const PREFIX = 'plain';
/** addBulk slice: what a careful hand-written producer does with 100 000 jobs. */
const BULK_SLICE = 10_000;
/**
 * The events stream must hold every completion until QueueEvents has read it; BullMQ's default
 * (10 000, approximate) would drop some in the 100 000-task run and the producer would wait forever.
 */
const STREAM_OPTIONS = { events: { maxLen: 300_000 } };

interface ChainData {
  readonly run: string;
  readonly chain: number;
  readonly step: number;
  readonly steps: number;
  readonly value: number;
}
interface AddData {
  readonly x: number;
  readonly y: number;
}

const chainJobId = (data: Pick<ChainData, 'run' | 'chain' | 'step'>): string => `${data.run}.c${data.chain}.${data.step}`;

function connect(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

/** Resolves job ids to their return values as QueueEvents reports completions. */
class Completions {
  private readonly waiting = new Map<string, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(events: QueueEvents) {
    events.on('completed', ({ jobId, returnvalue }) => {
      const waiter = this.waiting.get(jobId);
      if (waiter === undefined) return;
      this.waiting.delete(jobId);
      waiter.resolve(returnvalue);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      const waiter = this.waiting.get(jobId);
      if (waiter === undefined) return;
      this.waiting.delete(jobId);
      waiter.reject(new Error(`job ${jobId} failed: ${failedReason}`));
    });
  }

  /** Must be called before the job is added, so its completion cannot be missed. */
  wait(jobId: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.waiting.set(jobId, { resolve, reject }));
  }

  clear(): void {
    this.waiting.clear();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Clients {
  readonly queue: Queue;
  readonly flows: FlowProducer;
  readonly events: QueueEvents;
  readonly completions: Completions;
}

async function startChain(clients: Clients, run: string, chain: number, steps: number): Promise<void> {
  const last = clients.completions.wait(chainJobId({ run, chain, step: steps - 1 }));
  const first: ChainData = { run, chain, step: 0, steps, value: 0 };
  await clients.queue.add('chain', first, { jobId: chainJobId(first) });
  checkValue(await last, chainValue(steps), 'chain');
}

async function startGroup(clients: Clients, run: string, size: number): Promise<void> {
  const ids = Array.from({ length: size }, (_, i) => `${run}.g${i}`);
  const values = Promise.all(ids.map((id) => clients.completions.wait(id)));
  for (let from = 0; from < size; from += BULK_SLICE) {
    const slice = ids.slice(from, from + BULK_SLICE);
    await clients.queue.addBulk(
      slice.map((jobId, k): { name: string; data: AddData; opts: { jobId: string } } => ({
        name: 'add',
        data: { x: from + k, y: from + k },
        opts: { jobId },
      })),
    );
  }
  checkGroup(await values, size, 'group');
}

async function startChord(clients: Clients, run: string, size: number): Promise<void> {
  const parentId = `${run}.sum`;
  const done = clients.completions.wait(parentId);
  await clients.flows.add({
    name: 'sum',
    queueName: QUEUE,
    prefix: PREFIX,
    opts: { jobId: parentId },
    children: Array.from({ length: size }, (_, i) => ({
      name: 'add',
      queueName: QUEUE,
      prefix: PREFIX,
      data: { x: i, y: i } satisfies AddData,
      opts: { jobId: `${run}.h${i}` },
    })),
  });
  checkValue(await done, headerSum(size), 'chord');
}

async function startTask(clients: Clients, run: string, i: number): Promise<void> {
  const jobId = `${run}.t`;
  const done = clients.completions.wait(jobId);
  await clients.queue.add('add', { x: i, y: i } satisfies AddData, { jobId });
  checkValue(await done, memberValue(i), 'task');
}

async function startLone(clients: Clients, i: number, get: boolean): Promise<void> {
  const job = await clients.queue.add('add', { x: i, y: i } satisfies AddData);
  if (get) checkValue(await job.waitUntilFinished(clients.events), memberValue(i), 'lone task');
}

async function runWorkload(clients: Clients, workload: Workload): Promise<void> {
  const run = randomBytes(6).toString('hex');
  switch (workload.kind) {
    case 'lone':
      if (workload.sequential === true) for (let i = 0; i < workload.count; i++) await startLone(clients, i, workload.get);
      else await Promise.all(Array.from({ length: workload.count }, (_, i) => startLone(clients, i, workload.get)));
      return;
    case 'chains':
      await Promise.all(Array.from({ length: workload.count }, (_, c) => startChain(clients, run, c, workload.steps)));
      return;
    case 'group':
      return startGroup(clients, run, workload.size);
    case 'chord':
      return startChord(clients, run, workload.size);
    case 'mixed':
      await Promise.all(
        Array.from({ length: workload.count }, (_, i) => {
          const own = `${run}.w${i}`;
          const shape = MIXED_SHAPES[i % MIXED_SHAPES.length]!.shape;
          switch (shape) {
            case 'task':
              return startTask(clients, own, i);
            case 'chain':
              return startChain(clients, own, 0, MIXED_CHAIN_STEPS);
            case 'group':
              return startGroup(clients, own, MIXED_GROUP_SIZE);
            case 'chord':
              return startChord(clients, own, MIXED_GROUP_SIZE);
          }
        }),
      );
      return;
  }
}

/** The producer's clients on `connection` (QueueEvents blocks, so it gets a connection of its own). */
async function producerClients(connection: Redis, queue: Queue, redisUrl: string): Promise<{ clients: Clients; close(): Promise<void> }> {
  const eventsConnection = connect(redisUrl);
  const flows = new FlowProducer({ connection, prefix: PREFIX });
  const events = new QueueEvents(QUEUE, { connection: eventsConnection, prefix: PREFIX });
  await Promise.all([queue.waitUntilReady(), flows.waitUntilReady(), events.waitUntilReady()]);
  // Each `waitUntilFinished` listens on the queue and the events until its job ends: 1 000 lone
  // tasks at once are 1 000 listeners, not a leak.
  queue.setMaxListeners(0);
  events.setMaxListeners(0);
  const completions = new Completions(events);
  return {
    clients: { queue, flows, events, completions },
    async close() {
      completions.clear();
      await Promise.all([events.close(), flows.close()]);
      await eventsConnection.quit();
    },
  };
}

/** The worker: `queue` is where a chain step adds the next one. */
async function startWorker(connection: Redis, queue: Queue): Promise<Worker> {
  const process = async (job: Job): Promise<number> => {
    switch (job.name) {
      case 'add': {
        const { x, y } = job.data as AddData;
        return x + y;
      }
      case 'chain': {
        const data = job.data as ChainData;
        const value = data.value + 1;
        if (data.step + 1 < data.steps) {
          const next: ChainData = { ...data, step: data.step + 1, value };
          await queue.add('chain', next, { jobId: chainJobId(next) });
        }
        return value;
      }
      case 'sum': {
        const values = Object.values(await job.getChildrenValues<number>());
        return values.reduce((total, v) => total + v, 0);
      }
      default:
        throw new Error(`unknown job name ${job.name}`);
    }
  };
  const worker = new Worker(QUEUE, process, {
    connection,
    prefix: PREFIX,
    concurrency: WORKER_CONCURRENCY,
  });
  await worker.waitUntilReady();
  return worker;
}

export const bullmq: System = {
  async producer(redisUrl: string): Promise<Producer> {
    const connection = connect(redisUrl);
    const queue = new Queue(QUEUE, { connection, prefix: PREFIX, streams: STREAM_OPTIONS });
    const { clients, close } = await producerClients(connection, queue, redisUrl);
    return {
      run: (workload, timeoutMs) => withTimeout(runWorkload(clients, workload), timeoutMs, `plain BullMQ ${workload.kind}`),
      async close() {
        await close();
        await queue.close();
        await connection.quit();
      },
    };
  },

  async consumer(redisUrl: string): Promise<Consumer> {
    const connection = connect(redisUrl);
    const queue = new Queue(QUEUE, { connection, prefix: PREFIX, streams: STREAM_OPTIONS });
    const worker = await startWorker(connection, queue);
    return {
      async close() {
        await worker.close();
        await queue.close();
        await connection.quit();
      },
    };
  },

  async inProcess(redisUrl: string): Promise<Producer> {
    const connection = connect(redisUrl);
    const queue = new Queue(QUEUE, { connection, prefix: PREFIX, streams: STREAM_OPTIONS });
    const worker = await startWorker(connection, queue);
    const { clients, close } = await producerClients(connection, queue, redisUrl);
    return {
      run: (workload, timeoutMs) => withTimeout(runWorkload(clients, workload), timeoutMs, `plain BullMQ ${workload.kind}`),
      async close() {
        await worker.close();
        await close();
        await queue.close();
        await connection.quit();
      },
    };
  },
};
