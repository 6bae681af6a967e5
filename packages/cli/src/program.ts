/**
 * The command line: Celery's commands and flags, parsed by commander. Global options are accepted
 * before or after the command; every command has `--help`. Each command's work is in
 * `commands/<name>.ts`; this file only declares and wires.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CommandAction } from './command.js';
import { GRAPH_FORMATS, INSPECT_COMMANDS, type GraphFormat } from './command-names.js';
import type { CallCommandOptions } from './commands/call.js';
import type { ControlRequest } from './commands/control.js';
import type { EventsCommandOptions } from './commands/events.js';
import type { DestinationOptions } from './commands/inspect.js';
import type { MonitorCommandOptions } from './commands/monitor.js';
import type { PurgeCommandOptions } from './commands/purge.js';
import type { ResultCommandOptions } from './commands/result.js';
import type { WorkerCommandOptions } from './commands/worker.js';
import { autoscale, json, names, poolKind, seconds, wholeNumber } from './parse.js';
import type { CommandKind, GlobalOptions, Session } from './session.js';
import { VERSION } from './version.js';

/** How the program runs a command: makes the session from the global options, runs, records the exit code. */
export type Runner = <TArgs extends unknown[]>(action: CommandAction<TArgs>, kind?: CommandKind) => (...received: unknown[]) => Promise<void>;

/** Options every inspect/control command takes. */
function withDestination(command: Command): Command {
  return command
    .option('-d, --destination <names>', 'only these workers (comma-separated names, e.g. w1@host,w2@host)', names)
    .option('-t, --timeout <seconds>', 'seconds to wait for replies (default 1)', seconds);
}

// Each command's module is imported when the command runs: `--help` and `--version` load no
// runtime, no Redis client, no monitor.
const workerCommand: CommandAction<[WorkerCommandOptions]> = async (session, options) => (await import('./commands/worker.js')).workerCommand(session, options);
const inspectCommand: CommandAction<[(typeof INSPECT_COMMANDS)[number], readonly string[], DestinationOptions]> = async (session, ...args) =>
  (await import('./commands/inspect.js')).inspectCommand(session, ...args);
const controlCommand: CommandAction<[ControlRequest, DestinationOptions]> = async (session, ...args) => (await import('./commands/control.js')).controlCommand(session, ...args);
const statusCommand: CommandAction<[]> = async (session) => (await import('./commands/status.js')).statusCommand(session);
const callCommand: CommandAction<[string, CallCommandOptions]> = async (session, ...args) => (await import('./commands/call.js')).callCommand(session, ...args);
const resultCommand: CommandAction<[string, ResultCommandOptions]> = async (session, ...args) => (await import('./commands/result.js')).resultCommand(session, ...args);
const eventsCommand: CommandAction<[EventsCommandOptions]> = async (session, options) => (await import('./commands/events.js')).eventsCommand(session, options);
const graphCommand: CommandAction<[string, GraphFormat]> = async (session, ...args) => (await import('./commands/graph.js')).graphCommand(session, ...args);
const purgeCommand: CommandAction<[PurgeCommandOptions]> = async (session, options) => (await import('./commands/purge.js')).purgeCommand(session, options);
const monitorCommand: CommandAction<[MonitorCommandOptions]> = async (session, options) => (await import('./commands/monitor.js')).monitorCommand(session, options);

/** Builds the `celeriac` program; `run` wraps each command's action. */
export function buildProgram(run: Runner): Command {
  const program = new Command('celeriac')
    .description("Celery's command line for Celeriac apps: run workers, inspect and control them, send tasks, read results.")
    .version(VERSION, '-V, --version', 'print the version and exit')
    .option('-A, --app <module>', 'the app: a .ts/.js/.mjs file or package exporting `app` (or a default app); `module:name` picks an export')
    .option('-b, --broker <url>', "Redis URL, or redis+cluster://HOST:PORT,HOST:PORT for a cluster (default: the app's own, else $REDIS_URL, else redis://127.0.0.1:6379)")
    .option('--prefix <prefix>', "key prefix of the app's data in Redis (default: the app's, else celeriac)")
    .option('--json', 'print data as JSON (Celery\'s --json shape)')
    .option('-l, --loglevel <level>', 'DEBUG, INFO, WARNING, ERROR or CRITICAL (DEBUG also shows stack traces)')
    .option('--log-format <format>', 'log lines as "text" (default) or "json" (JSON lines)')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .exitOverride();

  const worker = program
    .command('worker')
    .description('start a worker that runs the app\'s tasks (needs -A)')
    .option('-c, --concurrency <n>', 'tasks run at once; with -P processes, child processes (default: number of CPUs)', wholeNumber(1))
    .option('-n, --hostname <name>', 'worker name; %h = host name, %n = its first label, %d = domain (default celeriac@%h)')
    .option('-Q, --queues <queues>', 'queues to consume, comma-separated (default "default")', names)
    .option('-E, --task-events', 'send task events (for `celeriac events` and the monitor)')
    .addOption(new Option('-P, --pool <pool>', 'where tasks run: async (the event loop) or processes (child processes, Celery\'s prefork)').argParser(poolKind))
    .option('--max-tasks-per-child <n>', 'with -P processes, replace a child after this many tasks', wholeNumber(1))
    .option('--autoscale <max,min>', 'with -P processes, keep between MIN and MAX children', autoscale);
  worker.action(run((session, options: WorkerCommandOptions) => workerCommand(session, options), 'long-running'));

  const inspect = program.command('inspect').description("ask the workers about themselves (Celery's celery inspect)");
  for (const name of INSPECT_COMMANDS) {
    const describe: Record<(typeof INSPECT_COMMANDS)[number], string> = {
      registered: 'task names each worker has registered',
      active: 'tasks running now',
      reserved: 'tasks fetched and waiting for a free slot',
      scheduled: 'tasks waiting for their countdown or eta',
      revoked: 'task ids each worker holds as revoked',
      stats: 'pid, uptime, counts per task, pool, resource usage',
      ping: 'each worker answers pong',
      active_queues: 'queues each worker consumes',
      query_task: 'where the workers hold these task ids',
    };
    const sub = withDestination(inspect.command(name).description(describe[name]));
    if (name === 'query_task') {
      sub.argument('<ids...>', 'task ids');
      sub.action(run((session, ids: string[], options: DestinationOptions) => inspectCommand(session, name, ids, options)));
    } else {
      sub.action(run((session, options: DestinationOptions) => inspectCommand(session, name, [], options)));
    }
  }

  const control = program.command('control').description("send commands to the workers (Celery's celery control)");
  const controlAction = <TArgs extends unknown[]>(request: (...args: TArgs) => ControlRequest) =>
    run((session, ...args: [...TArgs, DestinationOptions]) => controlCommand(session, request(...(args.slice(0, -1) as TArgs)), args.at(-1) as DestinationOptions));
  withDestination(control.command('shutdown').description('warm shutdown: finish the tasks in flight, then exit')).action(
    controlAction(() => ({ command: 'shutdown' })),
  );
  withDestination(control.command('rate_limit').description('set a task\'s rate limit, e.g. 10/s, 100/m, 1000/h (0 for none)'))
    .argument('<task>')
    .argument('<rate>')
    .action(controlAction((task: string, rate: string) => ({ command: 'rate_limit', task, rate })));
  withDestination(control.command('time_limit').description("set a task's soft and hard time limits, in seconds"))
    .argument('<task>')
    .argument('<soft>', 'soft limit in seconds', seconds)
    .argument('[hard]', 'hard limit in seconds', seconds)
    .action(controlAction((task: string, soft: number, hard?: number) => ({ command: 'time_limit', task, soft, hard: hard ?? null })));
  withDestination(control.command('add_consumer').description('make the workers consume a queue'))
    .argument('<queue>')
    .action(controlAction((queue: string) => ({ command: 'add_consumer', queue })));
  withDestination(control.command('cancel_consumer').description('make the workers stop consuming a queue'))
    .argument('<queue>')
    .action(controlAction((queue: string) => ({ command: 'cancel_consumer', queue })));
  withDestination(control.command('revoke').description('tell the workers to skip these task ids (--terminate: abort them if running)'))
    .argument('<ids...>')
    .option('--terminate', 'abort the tasks if they are running')
    .action(
      run((session, ids: string[], options: DestinationOptions & { terminate?: boolean }) =>
        controlCommand(session, { command: 'revoke', ids, terminate: options.terminate === true }, options),
      ),
    );
  for (const [name, text] of [
    ['pool_grow', 'run N more tasks at once on each worker'],
    ['pool_shrink', 'run N fewer tasks at once on each worker'],
  ] as const) {
    withDestination(control.command(name).description(text))
      .argument('[n]', 'how many (default 1)', wholeNumber(1))
      .action(controlAction((n?: number) => ({ command: name, n: n ?? 1 })));
  }

  program
    .command('status')
    .description('list the workers online')
    .action(run((session) => statusCommand(session)));

  program
    .command('call')
    .description("send a task by name and print its id (Celery's celery call)")
    .argument('<name>', 'the task name')
    .option('-a, --args <json>', 'positional arguments as a JSON array, e.g. \'[2, 2]\'', json('array'))
    .option('-k, --kwargs <json>', 'keyword arguments as a JSON object, e.g. \'{"x": 1}\'', json('object'))
    .option('--countdown <seconds>', 'run no sooner than this many seconds from now', seconds)
    .option('--eta <iso>', 'run no sooner than this time (ISO 8601)', isoTime)
    .option('--expires <seconds>', 'revoke it if it has not started within this many seconds', seconds)
    .option('--queue <queue>', 'the queue to send it to')
    .option('--priority <n>', 'priority (lower runs first)', wholeNumber(0))
    .action(run((session, name: string, options: CallCommandOptions) => callCommand(session, name, options)));

  program
    .command('result')
    .description("wait for a result and print its value (Celery's celery result)")
    .argument('<id>', 'a result id')
    .option('--timeout <seconds>', 'give up after this many seconds (default: wait)', seconds)
    .option('--traceback', "print a failed task's remote stack trace")
    .option('--state', 'print the state without waiting')
    .option('--tree', 'print the workflow around the result: every task with its state and value')
    .action(run((session, id: string, options: ResultCommandOptions) => resultCommand(session, id, options)));

  program
    .command('events')
    .description('print task and worker events as they happen (workers send them with -E)')
    .option('--history <n>', 'first print the last N events', wholeNumber(1))
    .action(run((session, options: EventsCommandOptions) => eventsCommand(session, options), 'long-running'));

  program
    .command('graph')
    .description("print a workflow's graph: by result id (with each task's state) or from a canvas saved as JSON")
    .argument('<target>', 'a result id, or FILE.json holding a canvas')
    .addOption(new Option('--format <format>', 'output format').choices(GRAPH_FORMATS).default('text'))
    .action(run((session, target: string, options: { format: GraphFormat }) => graphCommand(session, target, options.format)));

  program
    .command('purge')
    .description('remove every waiting task from the queues (asks first)')
    .option('-Q, --queues <queues>', 'only these queues, comma-separated (default: all)', names)
    .option('-f, --force', 'do not ask for confirmation')
    .action(run((session, options: PurgeCommandOptions) => purgeCommand(session, options)));

  program
    .command('monitor')
    .description("serve the web monitor (Flower's page and HTTP API) for the app")
    .option('--port <port>', 'TCP port (default 5555)', wholeNumber(0))
    .option('--address <address>', 'address to listen on (default 127.0.0.1)')
    .option('--url-prefix <prefix>', 'serve under this path, e.g. /flower')
    .option('--basic-auth <users>', 'user:password[,user2:password2]')
    .option('--read-only', 'hide and refuse every action')
    .option('--insecure', 'allow a non-loopback address without --basic-auth')
    .option('--max-tasks <n>', 'tasks kept in memory (default 100000)', wholeNumber(1))
    .option('--inspect-timeout <ms>', "milliseconds to wait for workers' replies, as Flower's (default 1000)", wholeNumber(1))
    .action(run((session, options: MonitorCommandOptions) => monitorCommand(session, options), 'long-running'));

  return program;
}

function isoTime(value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('expected a time in ISO 8601, e.g. 2030-01-01T12:00:00Z');
  return value;
}

/** The global options of a command's invocation (they may appear before or after it). */
export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export type { Session };
