/**
 * The CLI's logger: pino, levelled and structured, behind the runtime's `Logger` interface. Lines
 * are human-readable (pino-pretty; coloured on a terminal) unless `--log-format json` asks for JSON
 * lines, which log collectors read as they are.
 */
import type { Logger, LogLevel } from '@celeriac/runtime';
import { pino, type Logger as Pino } from 'pino';
import pretty from 'pino-pretty';
import { UsageError } from './errors.js';

/** How log lines are written. */
export type LogFormat = 'pretty' | 'json';

/** Celery's level names (any case) and ours, to the runtime's levels. */
const LEVELS: Readonly<Record<string, LogLevel>> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'error',
  fatal: 'error',
  silent: 'silent',
};

/**
 * Reads a `--loglevel` value.
 *
 * @throws UsageError for a level that does not exist
 */
export function parseLogLevel(value: string): LogLevel {
  const level = LEVELS[value.toLowerCase()];
  if (level === undefined) {
    throw new UsageError(`--loglevel: unknown level "${value}"; use one of DEBUG, INFO, WARNING, ERROR, CRITICAL`);
  }
  return level;
}

/**
 * Reads a `--log-format` value.
 *
 * @throws UsageError for anything but `json` or `text`
 */
export function parseLogFormat(value: string): LogFormat {
  if (value === 'json') return 'json';
  if (value === 'text' || value === 'pretty') return 'pretty';
  throw new UsageError(`--log-format: unknown format "${value}"; use "json" (JSON lines) or "text"`);
}

/** A pino logger writing to stderr, adapted to the runtime's `Logger`. */
export function createLogger(level: LogLevel, format: LogFormat, name?: string): Logger & { readonly pino: Pino } {
  const options = {
    level: level === 'silent' ? 'silent' : level,
    base: name === undefined ? { pid: process.pid } : { pid: process.pid, name },
    // JSON lines say "info", not 30: log collectors and people read them.
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const destination =
    format === 'json'
      ? pino.destination({ fd: 2, sync: true })
      : pretty({
          destination: 2,
          sync: true,
          colorize: process.stderr.isTTY === true,
          translateTime: 'SYS:yyyy-mm-dd HH:MM:ss,l',
          ignore: 'pid,hostname,name',
          singleLine: true,
        });
  const log = pino(options, destination);
  const at =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, detail?: unknown): void => {
      if (detail === undefined) log[method](message);
      else if (detail instanceof Error) log[method]({ err: detail }, message);
      // A stack (the worker logs a failed task's): pino-pretty prints an `err`'s stack on lines of its own.
      else if (typeof detail === 'string' && /\n\s+at /.test(detail)) log[method]({ err: fromStack(detail) }, message);
      else log[method]({ detail }, message);
    };
  return {
    pino: log,
    enabled: (wanted) => log.isLevelEnabled(wanted),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

/** An error rebuilt from its stack text (`Name: message` then `at …` lines), so loggers print it as one. */
function fromStack(stack: string): Error {
  const head = stack.split('\n')[0] ?? '';
  const colon = head.indexOf(': ');
  const error = new Error(colon > 0 ? head.slice(colon + 2) : head);
  if (colon > 0) error.name = head.slice(0, colon);
  error.stack = stack;
  return error;
}
