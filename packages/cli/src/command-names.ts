/**
 * The words of the commands that take one from a list: kept apart from the commands themselves, so
 * that building the command line (and `--help`, `--version`) loads none of their dependencies.
 */

/** Inspect questions by Celery's command name. */
export const INSPECT_COMMANDS = ['registered', 'active', 'reserved', 'scheduled', 'revoked', 'stats', 'ping', 'active_queues', 'query_task'] as const;

/** One of {@link INSPECT_COMMANDS}. */
export type InspectCommand = (typeof INSPECT_COMMANDS)[number];

/** Output formats of `celeriac graph`. */
export const GRAPH_FORMATS = ['text', 'mermaid', 'dot'] as const;

/** One of {@link GRAPH_FORMATS}. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];
