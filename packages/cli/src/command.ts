/**
 * The shape of a command's implementation: it gets the session (global options, app, logger) and
 * its own parsed options, prints, and resolves to the process's exit code.
 */
import type { Session } from './session.js';

/** A command's implementation; resolves to the exit code (0 when nothing is returned). */
export type CommandAction<TArgs extends unknown[]> = (session: Session, ...args: TArgs) => Promise<number | void>;
