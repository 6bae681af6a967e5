/**
 * A benchmark child process: the producer or the worker of one system for one trial, or both
 * (`role: 'both'`, the in-process mode). It is compiled to JavaScript and run in plain Node
 * (compiled.ts), started by bench/run.ts with its {@link ChildConfig} as JSON in argv[2] and an IPC channel, and
 * obeys the orchestrator's messages (see protocol.ts). Only the system under test is imported, so
 * its memory is the system's own.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Consumer, Producer, System, WorkerSettings } from './driver.js';
import { peakRss } from './memory.js';
import type { ChildConfig, ChildStats, FromChild, ToChild, TrialProfiles } from './protocol.js';
import { installRoundTripCounter, resetRoundTrips, roundTrips } from './roundtrips.js';
import { warmupOf } from './workload.js';

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;

function send(message: FromChild): void {
  process.send?.(message);
}

function fail(error: unknown): void {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  setTimeout(() => process.exit(1), 100).unref();
}

async function loadSystem(): Promise<System> {
  if (config.system === 'celeriac') return (await import('./celeriac.js')).celeriac;
  return (await import('./bullmq.js')).bullmq;
}

/**
 * Profiles of the measured workload alone (`--cpu-prof`, `--heap-prof`), from the reset after the
 * warm-up to the stop: Node's own `--cpu-prof` covers the whole process, whose start-up and warm-up
 * outweigh a trial of a few hundred ms. Sampling slows both systems alike; compare, do not time.
 */
class TrialProfile {
  private session: Session | null = null;

  constructor(private readonly wanted: TrialProfiles) {}

  async start(): Promise<void> {
    const session = (this.session = new Session());
    session.connect();
    if (this.wanted.cpu) {
      await session.post('Profiler.enable');
      // 100 µs between samples instead of V8's 1 ms: a trial is short.
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
    if (this.wanted.heap) {
      // Garbage included: what a task allocates, not only what outlives the trial.
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 256,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
  }

  async stop(): Promise<void> {
    const { session } = this;
    if (session === null) return;
    this.session = null;
    const name = `${config.system}-${config.role}-${process.pid}`;
    await mkdir(this.wanted.dir, { recursive: true });
    if (this.wanted.cpu) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(join(this.wanted.dir, `${name}.cpuprofile`), JSON.stringify(profile));
    }
    if (this.wanted.heap) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      await writeFile(join(this.wanted.dir, `${name}.heapprofile`), JSON.stringify(profile));
    }
    session.disconnect();
  }
}

async function main(): Promise<void> {
  if (config.countRoundTrips) installRoundTripCounter();
  const system = await loadSystem();
  let cpuStart = process.cpuUsage();
  const stats = (): ChildStats => {
    const cpu = process.cpuUsage(cpuStart);
    return { peakRssBytes: peakRss(), cpuMicros: cpu.user + cpu.system, roundTrips: roundTrips() };
  };

  const settings: WorkerSettings = { taskEvents: config.workload.kind === 'group' && config.workload.taskEvents === true };
  const half: Producer | Consumer =
    config.role === 'producer'
      ? await system.producer(config.redisUrl)
      : config.role === 'both'
        ? await system.inProcess(config.redisUrl, settings)
        : await system.consumer(config.redisUrl, settings);

  const profile = config.profiles === undefined ? null : new TrialProfile(config.profiles);
  process.on('message', (message: ToChild) => {
    void (async () => {
      switch (message.type) {
        case 'warmup': {
          const warmup = warmupOf(config.workload);
          for (let i = 0; i < warmup.times; i++) await (half as Producer).run(warmup.workload, config.timeoutMs);
          send({ type: 'warmed' });
          return;
        }
        case 'reset':
          await profile?.start();
          resetRoundTrips();
          cpuStart = process.cpuUsage();
          send({ type: 'reset-done' });
          return;
        case 'run': {
          const started = performance.now();
          await (half as Producer).run(config.workload, config.timeoutMs);
          send({ type: 'done', ms: performance.now() - started });
          return;
        }
        case 'stop': {
          const final = stats();
          await profile?.stop();
          await half.close();
          send({ type: 'stats', stats: final });
          process.disconnect?.();
          return;
        }
      }
    })().catch(fail);
  });
  send({ type: 'ready' });
}

main().catch(fail);
