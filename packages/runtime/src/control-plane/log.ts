/**
 * Logging for the control plane. Everything it reads comes from Redis, where anyone with access
 * can write garbage; a flood of malformed messages must cost a log line a minute, not one per
 * message, and must never throw.
 */

/** Where the control plane reports problems. Same shape as the worker's logger. */
export interface Logger {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

/** Writes to stderr; used when no logger is given. */
export const stderrLogger: Logger = {
  // eslint-disable-next-line no-console
  warn: (message, detail) => console.warn(`[celeriac] ${message}`, detail ?? ''),
  // eslint-disable-next-line no-console
  error: (message, detail) => console.error(`[celeriac] ${message}`, detail ?? ''),
};

/** Default: at most one line per kind of problem per minute. */
export const LOG_WINDOW_MS = 60_000;

interface KindState {
  /** When the last line for this kind was written. */
  loggedAt: number;
  /** Problems of this kind since that line, not yet reported. */
  suppressed: number;
}

/**
 * Reports recurring problems at most once per `windowMs` per kind. The first occurrence is logged
 * at once; later ones within the window are counted and the count is reported with the next line.
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
    const more =
      suppressed > 0 ? ` (${suppressed} more of this kind since the last report, ${Math.round((now - state!.loggedAt) / 1000)} s ago)` : '';
    try {
      this.logger[level](`${message}${more}`, detail);
    } catch {
      // A broken logger must not turn a dropped message into a crash.
    }
  }
}
