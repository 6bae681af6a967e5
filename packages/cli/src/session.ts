/**
 * What every command shares: the global options (`-A`, `-b`, `--prefix`, `--json`,
 * `--loglevel`, `--log-format`), the app they name, the logger, and what to close at the end.
 */
import { createApp, type App, type Logger, type LogLevel } from '@celeriac/runtime';
import { UsageError } from './errors.js';
import { loadApp } from './load-app.js';
import { createLogger, parseLogFormat, parseLogLevel, type LogFormat } from './logging.js';

/** The options accepted before or after any command. */
export interface GlobalOptions {
  readonly app?: string;
  readonly broker?: string;
  readonly prefix?: string;
  readonly json?: boolean;
  readonly loglevel?: string;
  readonly logFormat?: string;
}

/** Where Redis is when neither `-b`, the app, nor `REDIS_URL` says. */
export const DEFAULT_BROKER = 'redis://127.0.0.1:6379';

/**
 * Milliseconds a command other than `worker` waits for an unreachable Redis before it says so: a
 * person is waiting. (A worker keeps the app's own setting: it waits out outages.)
 */
const COMMAND_UNAVAILABLE_TIMEOUT = 5_000;

/**
 * A command that answers and exits (`one-shot`: quiet unless asked, gives up on an unreachable
 * Redis within seconds), or one that runs until stopped (`long-running`: worker, events, monitor;
 * logs at Celery's default WARNING, waits out Redis outages as the app says).
 */
export type CommandKind = 'one-shot' | 'long-running';

/** The app a command works with, and where its module is (when `-A` named one). */
export interface SessionApp {
  readonly app: App;
  readonly module: URL | undefined;
  /** The Redis URL in use, without password. */
  readonly broker: string;
}

/** One run of the CLI. */
export class Session {
  readonly json: boolean;
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Whether `--loglevel debug` asked for stacks. */
  readonly debug: boolean;
  private readonly closers: (() => Promise<void>)[] = [];
  private loaded: Promise<SessionApp> | undefined;
  private log: Logger | undefined;
  /** The Redis in use, as far as known (for messages about it). */
  broker: string;

  /** How long Redis calls wait out an outage: the app's own setting (undefined) for long-running commands. */
  private readonly unavailableTimeout: number | undefined;

  /**
   * @param options - the global options as parsed
   * @param kind - whether the command answers and exits, or runs until stopped
   */
  constructor(
    readonly options: GlobalOptions,
    kind: CommandKind = 'one-shot',
  ) {
    const long = kind === 'long-running';
    this.unavailableTimeout = long ? undefined : COMMAND_UNAVAILABLE_TIMEOUT;
    this.json = options.json === true;
    this.level = options.loglevel === undefined ? (long ? 'warn' : 'error') : parseLogLevel(options.loglevel);
    this.format = options.logFormat === undefined ? 'pretty' : parseLogFormat(options.logFormat);
    this.debug = this.level === 'debug';
    this.broker = options.broker ?? DEFAULT_BROKER;
  }

  /** The logger at the session's level and format. */
  get logger(): Logger {
    this.log ??= createLogger(this.level, this.format);
    return this.log;
  }

  /**
   * The app: the one `-A` names, pointed at `-b`/`--prefix` when given, or else (for commands
   * that need no tasks) a bare app on `-b`, `REDIS_URL` or the default Redis.
   *
   * @param required - the command needs the app's module (its tasks), so `-A` must be given
   */
  app(required = false): Promise<SessionApp> {
    this.loaded ??= this.open(required).then((loaded) => {
      this.broker = loaded.broker;
      return loaded;
    });
    return this.loaded;
  }

  /** Runs `close` when the command ends (in reverse order). */
  onClose(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  /** Closes what the command opened. */
  async close(): Promise<void> {
    for (const close of this.closers.reverse()) {
      try {
        await close();
      } catch {
        // Closing after an error: the error was reported already.
      }
    }
    if (this.loaded !== undefined) {
      const loaded = await this.loaded.catch(() => undefined);
      await loaded?.app.close().catch(() => {});
    }
  }

  private async open(required: boolean): Promise<SessionApp> {
    const { app: spec, broker, prefix } = this.options;
    const fromEnv = process.env['REDIS_URL'] === '' ? undefined : process.env['REDIS_URL'];
    if (broker !== undefined && !/^rediss?(\+cluster)?:\/\//.test(broker)) {
      throw new UsageError(`-b ${broker}: expected a redis://, rediss:// or redis+cluster:// URL, e.g. -b redis://127.0.0.1:6379/0`);
    }
    if (spec === undefined) {
      if (required) throw new UsageError('this command needs the app: pass -A MODULE (the file that creates it, e.g. -A ./app.ts)');
      const app = createApp({ redis: broker ?? fromEnv ?? DEFAULT_BROKER, prefix, logger: this.logger, unavailableTimeout: this.unavailableTimeout });
      return { app, module: undefined, broker: app.broker ?? DEFAULT_BROKER };
    }
    const { app, module } = await loadApp(spec);
    const redis = broker ?? (app.broker === undefined ? fromEnv : undefined);
    app.configure({ redis, prefix, logger: this.logger, unavailableTimeout: this.unavailableTimeout });
    return { app, module, broker: app.broker ?? DEFAULT_BROKER };
  }
}
