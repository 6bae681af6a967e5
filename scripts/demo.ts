/**
 * `npm run demo`: runs every program in examples/ in a fixed order, each in its own process, against
 * one Redis. That Redis is REDIS_URL when set; otherwise a private redis-server on a free port
 * (never the machine's shared one), stopped again at the end, on failure and on Ctrl-C.
 * Exits non-zero if any example fails.
 */
import { RedisServerMissingError, startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { EXAMPLES, exampleExists, exampleFile, runExample, type ExampleResult } from './run-example.js';

const rule = (title: string): string => `\n=== ${title} ${'='.repeat(Math.max(3, 72 - title.length))}`;

/** The URL without its password, for printing. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

function outcome(result: ExampleResult): string {
  if (result.timedOut) return `FAILED (killed after ${result.durationMs} ms: timed out)`;
  if (result.code === 0) return `ok (${result.durationMs} ms)`;
  return `FAILED (${result.signal === null ? `exit code ${result.code}` : `killed by ${result.signal}`}, ${result.durationMs} ms)`;
}

let redis: PrivateRedis | undefined;
const interrupt = new AbortController();
/** Exit status after a signal, by the shell's convention: 128 + its number. */
let interruptedStatus = 130;

function onSignal(signal: NodeJS.Signals): void {
  if (interrupt.signal.aborted) {
    // Second Ctrl-C: stop waiting, but still do not leave the private redis-server behind.
    if (redis !== undefined) killQuietly(redis.pid);
    process.exit(interruptedStatus);
  }
  interruptedStatus = signal === 'SIGTERM' ? 143 : 130;
  console.error(`\n${signal}: stopping the running example${redis === undefined ? '' : ' and the private redis-server'}…`);
  interrupt.abort();
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function main(): Promise<number> {
  const present = EXAMPLES.filter((name) => exampleExists(name));
  for (const name of EXAMPLES) {
    if (!present.includes(name)) console.log(`note: ${exampleFile(name)} does not exist yet; skipping it`);
  }
  if (present.length === 0) {
    console.error('No example programs found in examples/: nothing to demo.');
    return 1;
  }

  let redisUrl = process.env['REDIS_URL'];
  if (redisUrl !== undefined && redisUrl !== '') {
    console.log(`Using REDIS_URL=${redact(redisUrl)}`);
  } else {
    try {
      redis = await startPrivateRedis();
    } catch (error) {
      if (error instanceof RedisServerMissingError) {
        console.error(error.message);
        return 1;
      }
      throw error;
    }
    redisUrl = redis.url;
    console.log(`Started a private redis-server at ${redis.url} (pid ${redis.pid}); set REDIS_URL to use another Redis.`);
  }

  const results: [string, ExampleResult][] = [];
  try {
    for (const [i, name] of present.entries()) {
      if (interrupt.signal.aborted) break;
      console.log(rule(`${exampleFile(name)} (${i + 1}/${present.length})`));
      const result = await runExample(name, redisUrl, { echo: true, signal: interrupt.signal });
      results.push([name, result]);
      if (result.code !== 0) console.log(`--- ${exampleFile(name)}: ${outcome(result)}`);
    }
  } finally {
    await redis?.stop();
    redis = undefined; // its pid may be reused from now on
  }

  console.log(rule('Summary'));
  for (const [name, result] of results) console.log(`${exampleFile(name).padEnd(24)} ${outcome(result)}`);
  for (const name of present.slice(results.length)) console.log(`${exampleFile(name).padEnd(24)} not run (interrupted)`);
  const failed = results.filter(([, r]) => r.code !== 0).length;
  if (interrupt.signal.aborted) return interruptedStatus;
  console.log(failed === 0 ? `\nAll ${results.length} examples passed.` : `\n${failed} of ${results.length} examples failed.`);
  return failed === 0 ? 0 : 1;
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// Last resort if something throws past main's finally: never leave the private server running.
process.on('exit', () => {
  if (redis !== undefined) killQuietly(redis.pid);
});

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
