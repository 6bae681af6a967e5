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

/** Default: at most one line per kind of problem per minute. */
export const LOG_WINDOW_MS = 60_000;

interface KindState {
  /** When the last line for this kind was written. */
  loggedAt: number;
  /** Problems of this kind since that line, not yet reported. */
  suppressed: number;
}

/** Kinds remembered at most: the kinds may come from what a hostile publisher sends. */
const MAX_KINDS = 1_000;

/**
 * Reports recurring problems (a flood of malformed messages, a Redis outage) at most once per
 * `windowMs` per kind. The first occurrence is logged at once; later ones within the window are
 * counted and the count is reported with the next line. Never throws, even if the logger does.
 *
 * @example
 * ```ts
 * const log = new RateLimitedLog(logger);
 * log.warn('control message', 'dropped a malformed control message: not JSON');
 * ```
 */
export class RateLimitedLog {
  private readonly kinds = new Map<string, KindState>();

  /**
   * @param logger - where lines go
   * @param windowMs - minimum time between two lines of the same kind
   * @param now - the clock (tests pass their own)
   */
  constructor(
    private readonly logger: Logger,
    private readonly windowMs: number = LOG_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs a warning of `kind`, unless one was logged less than a window ago. */
  warn(kind: string, message: string, detail?: unknown): void {
    this.write('warn', kind, message, detail);
  }

  /** Logs an error of `kind`, unless one was logged less than a window ago. */
  error(kind: string, message: string, detail?: unknown): void {
    this.write('error', kind, message, detail);
  }

  private write(level: 'warn' | 'error', kind: string, message: string, detail: unknown): void {
    const now = this.now();
    const state = this.kinds.get(kind);
    if (state !== undefined && now - state.loggedAt < this.windowMs) {
      state.suppressed++;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    this.kinds.set(kind, { loggedAt: now, suppressed: 0 });
    if (this.kinds.size > MAX_KINDS) this.kinds.delete(this.kinds.keys().next().value!);
    const more =
      suppressed > 0 ? ` (${suppressed} more of this kind since the last report, ${Math.round((now - state!.loggedAt) / 1000)} s ago)` : '';
    try {
      this.logger[level](`${message}${more}`, detail);
    } catch {
      // A broken logger must not turn a dropped message into a crash.
    }
  }
}
