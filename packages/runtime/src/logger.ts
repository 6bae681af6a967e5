/**
 * Where Celeriac reports what happens: each task's life at `info` (as Celery's worker logs it),
 * problems that are not task failures at `warn`/`error`, internals at `debug`. `console`, pino
 * (through a two-line adapter), winston and the like fit the interface.
 */

/** A levelled logger. `detail` is structured context: an error, or a record of fields. */
export interface Logger {
  /**
   * Whether messages at `level` would be written. Optional: when absent every level is assumed on.
   * The worker asks before building a line that costs something (a result's summary).
   */
  enabled?(level: Exclude<LogLevel, 'silent'>): boolean;
  debug(message: string, detail?: unknown): void;
  info(message: string, detail?: unknown): void;
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

/** Logger levels, most verbose first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * A logger writing to the console at `level` and above, each line prefixed with `[celeriac]`.
 * The default of apps created without a logger is `consoleLogger('warn')`: a library stays quiet
 * about tasks that went well.
 *
 * @example
 * ```ts
 * const app = createApp({ logger: consoleLogger('info') });
 * ```
 */
export function consoleLogger(level: LogLevel = 'warn'): Logger {
  const floor = LEVELS.indexOf(level);
  const at =
    (name: Exclude<LogLevel, 'silent'>) =>
    (message: string, detail?: unknown): void => {
      if (LEVELS.indexOf(name) < floor) return;
      // eslint-disable-next-line no-console
      if (detail === undefined) console[name](`[celeriac] ${message}`);
      // eslint-disable-next-line no-console
      else console[name](`[celeriac] ${message}`, detail);
    };
  return {
    enabled: (name) => LEVELS.indexOf(name) >= floor,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

/**
 * Reports a recurring problem (a flood of malformed messages, a Redis outage) at most once per
 * `intervalMs` for each `key`, with the number of occurrences since the last report, so one
 * hostile publisher or a long outage cannot fill a log.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 60_000,
  ) {}

  /** Logs `message` at `level` unless `key` was logged less than the interval ago. */
  report(level: 'warn' | 'error', key: string, message: string, detail?: unknown): void {
    const now = Date.now();
    const seen = this.last.get(key);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const more = seen !== undefined && seen.suppressed > 0 ? ` (${seen.suppressed} more since the last report)` : '';
    this.last.set(key, { at: now, suppressed: 0 });
    // A key space an attacker controls must not grow without bound.
    if (this.last.size > 1_000) this.last.delete(this.last.keys().next().value!);
    this.logger[level](message + more, detail);
  }
}
