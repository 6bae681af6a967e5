/**
 * The status codes the Lua scripts return (`lua/includes/status.lua` defines the same numbers),
 * and the one place where a code that means trouble becomes an error.
 */
import { InvalidJobError } from './errors.js';

/** What a recording script reports first in its reply. */
export const ScriptStatus = {
  /** The outcome was recorded now. */
  Recorded: 0,
  /** A duplicate delivery: the same outcome was recorded before. */
  AlreadyRecorded: 1,
  /** The node had already ended otherwise (failed, revoked, succeeded). */
  AlreadyEnded: 2,
  /** The workflow does not exist: it expired after `resultTtl`, or was never created. */
  NoWorkflow: -1,
} as const;

/** One of {@link ScriptStatus}. */
export type ScriptStatus = (typeof ScriptStatus)[keyof typeof ScriptStatus];

/** The statuses that are an answer rather than a problem. */
export type ScriptAnswer = Exclude<ScriptStatus, typeof ScriptStatus.NoWorkflow>;

/**
 * Returns a script's status when it is an answer, and throws the error a problem status stands for.
 * `workflowId` and `what` name the workflow and the operation in the message.
 */
export function checkStatus(status: unknown, workflowId: string, what: string): ScriptAnswer {
  switch (status) {
    case ScriptStatus.Recorded:
    case ScriptStatus.AlreadyRecorded:
    case ScriptStatus.AlreadyEnded:
      return status;
    case ScriptStatus.NoWorkflow:
      throw new InvalidJobError(
        `cannot ${what}: workflow ${workflowId} does not exist in Redis — it expired after resultTtl, was deleted, ` +
          'or the job was not written by Celeriac. Raise resultTtl if tasks wait longer than that.',
      );
    default:
      throw new InvalidJobError(`cannot ${what} in workflow ${workflowId}: a script returned the unknown status ${String(status)}`);
  }
}
