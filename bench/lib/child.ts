/**
 * A benchmark child process: the producer or the worker of one system for one trial, or both
 * (`role: 'both'`, the in-process mode). It is compiled to JavaScript and run in plain Node
 * (compiled.ts), started by bench/run.ts with its {@link ChildConfig} as JSON in argv[2] and an IPC channel, and
 * obeys the orchestrator's messages (see protocol.ts). Only the system under test is imported, so
 * its memory is the system's own.
 */
import { performance } from 'node:perf_hooks';
import type { Consumer, Producer, System, WorkerSettings } from './driver.js';
import { peakRss } from './memory.js';
import type { ChildConfig, ChildStats, FromChild, ToChild } from './protocol.js';
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
