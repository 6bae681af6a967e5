/**
 * The Celeriac side of the benchmark: the workloads written the way a user writes them with the
 * public API (`chain`, `group`, `chord`, `app.apply`, `res.get`), nothing benchmark-specific.
 */
import { chain, chord, group, type AnyCanvas, type Canvas } from '@celeriac/canvas';
import { createApp, type App } from '@celeriac/runtime';
import { WORKER_CONCURRENCY, type Consumer, type Producer, type System, type WorkerSettings } from './driver.js';
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

/** The app and tasks both halves register (a Celery project's `tasks.py`). */
function benchApp(redisUrl: string): { app: App; add: ReturnType<typeof addTask>; tsum: ReturnType<typeof sumTask> } {
  const app = createApp({ name: 'bench', redis: redisUrl, prefix: 'bench', resultTtl: 3600 });
  return { app, add: addTask(app), tsum: sumTask(app) };
}
const addTask = (app: App) => app.task('add', (x: number, y: number) => x + y);
const sumTask = (app: App) => app.task('tsum', (values: number[]) => values.reduce((total, v) => total + v, 0));

type Tasks = ReturnType<typeof benchApp>;

function chainOf({ add }: Tasks, steps: number): Canvas {
  const rest: AnyCanvas[] = Array.from({ length: steps - 1 }, () => add.s(1));
  return chain([add.s(0, 1), ...rest]);
}

function headerOf({ add }: Tasks, size: number): AnyCanvas[] {
  return Array.from({ length: size }, (_, i) => add.si(i, i));
}

/** Applies one workflow and checks its value. */
async function runOne(tasks: Tasks, canvas: Canvas, check: (value: unknown) => void, timeout: number): Promise<void> {
  const result = await tasks.app.apply(canvas);
  check(await result.get({ timeout }));
}

async function runWorkload(tasks: Tasks, workload: Workload, timeout: number): Promise<void> {
  switch (workload.kind) {
    case 'chains': {
      const { count, steps } = workload;
      const runs = Array.from({ length: count }, () =>
        runOne(tasks, chainOf(tasks, steps), (v) => checkValue(v, chainValue(steps), 'chain'), timeout),
      );
      await Promise.all(runs);
      return;
    }
    case 'group': {
      const { size } = workload;
      const canvas = group(headerOf(tasks, size));
      await runOne(tasks, canvas, (v) => checkGroup(v as unknown[], size, 'group'), timeout);
      return;
    }
    case 'chord': {
      const { size } = workload;
      const canvas = chord(headerOf(tasks, size), tasks.tsum.s());
      await runOne(tasks, canvas, (v) => checkValue(v, headerSum(size), 'chord'), timeout);
      return;
    }
    case 'lone': {
      const one = async (i: number): Promise<void> => {
        const result = await tasks.add.delay(i, i);
        if (workload.get) checkValue(await result.get({ timeout }), memberValue(i), 'lone task');
      };
      if (workload.sequential === true) for (let i = 0; i < workload.count; i++) await one(i);
      else await Promise.all(Array.from({ length: workload.count }, (_, i) => one(i)));
      return;
    }
    case 'mixed': {
      const runs = Array.from({ length: workload.count }, (_, i) => {
        const shape = MIXED_SHAPES[i % MIXED_SHAPES.length]!.shape;
        switch (shape) {
          case 'task':
            return runOne(tasks, tasks.add.si(i, i), (v) => checkValue(v, memberValue(i), 'task'), timeout);
          case 'chain':
            return runOne(tasks, chainOf(tasks, MIXED_CHAIN_STEPS), (v) => checkValue(v, chainValue(MIXED_CHAIN_STEPS), 'chain'), timeout);
          case 'group':
            return runOne(tasks, group(headerOf(tasks, MIXED_GROUP_SIZE)), (v) => checkGroup(v as unknown[], MIXED_GROUP_SIZE, 'group'), timeout);
          case 'chord':
            return runOne(
              tasks,
              chord(headerOf(tasks, MIXED_GROUP_SIZE), tasks.tsum.s()),
              (v) => checkValue(v, headerSum(MIXED_GROUP_SIZE), 'chord'),
              timeout,
            );
        }
      });
      await Promise.all(runs);
      return;
    }
  }
}

export const celeriac: System = {
  async producer(redisUrl: string): Promise<Producer> {
    const tasks = benchApp(redisUrl);
    await tasks.app.redis.ping();
    return {
      run: (workload, timeoutMs) => runWorkload(tasks, workload, timeoutMs),
      close: () => tasks.app.close(),
    };
  },

  async consumer(redisUrl: string, { taskEvents }: WorkerSettings): Promise<Consumer> {
    const { app } = benchApp(redisUrl);
    const worker = app.worker({ concurrency: WORKER_CONCURRENCY, name: 'bench@%h', taskEvents });
    await worker.waitUntilReady();
    return { close: () => app.close() };
  },

  /** One app that applies work and runs its own worker: the common Node set-up. */
  async inProcess(redisUrl: string, { taskEvents }: WorkerSettings): Promise<Producer> {
    const tasks = benchApp(redisUrl);
    const worker = tasks.app.worker({ concurrency: WORKER_CONCURRENCY, name: 'bench@%h', taskEvents });
    await worker.waitUntilReady();
    return {
      run: (workload, timeoutMs) => runWorkload(tasks, workload, timeoutMs),
      close: () => tasks.app.close(),
    };
  },
};
