/**
 * What the CLI reports for bad input: one line on stderr saying what was wrong and what to do, and
 * an exit code. Anything else thrown is turned into such a line too (`describeError`); its stack is
 * shown only with `--loglevel debug`.
 */
// From the canvas package (the runtime re-exports the same class): loading it stays light.
import { CeleriacError } from '@celeriac/canvas';

/** Exit codes, as Celery's (which follows sysexits.h). */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  /** A command-line usage error (unknown command or option, malformed argument). */
  USAGE: 64,
  /** No worker replied (`inspect`, `control`), as Celery's `EX_UNAVAILABLE`. */
  UNAVAILABLE: 69,
} as const;

/** An error the CLI reports as its message alone, then exits with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.FAILURE, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A malformed option or argument: exits with {@link EXIT.USAGE}. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}

/**
 * The one line to print for an error: its message's first line, with the class name where it helps.
 *
 * @param broker - the Redis in use, named when Redis did not answer
 */
export function describeError(error: unknown, broker?: string): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') {
    return `cannot use Redis at ${broker ?? 'the configured address'}: it did not answer; check that it runs and is reachable from here, or pass -b redis://HOST:PORT`;
  }
  if (error instanceof Error && error.name === 'ControlTimeoutError' && broker !== undefined && !error.message.includes(broker)) {
    return `cannot use Redis at ${broker}: ${firstLine(error.message)}`;
  }
  if (error instanceof CeleriacError) return firstLine(error.message);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const prefix = typeof code === 'string' && /^E[A-Z]+$/.test(code) ? `${code}: ` : `${error.name}: `;
    return `${error.message.startsWith(prefix) ? '' : prefix}${firstLine(error.message)}`;
  }
  return String(error);
}

/** The first line of a message (errors from modules may carry a code frame below it). */
export function firstLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const [first = text, second] = lines;
  // "Transform failed with 1 error:" says nothing without the line after it.
  return first.endsWith(':') && second !== undefined ? `${first} ${second}` : first;
}

/** The exit code for an error. */
export function exitCodeOf(error: unknown): number {
  return error instanceof CliError ? error.exitCode : EXIT.FAILURE;
}
