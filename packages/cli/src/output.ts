/**
 * Printing: data as JSON (`--json`) or as Celery prints it for people, replies per worker
 * (`->  w1@host: OK`), and the closing count of nodes.
 */
import { isCommandFailure, type Replies } from '@celeriac/runtime';
import { CliError, EXIT } from './errors.js';

/** Writes a line to stdout. */
export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a value as JSON on one line. */
export function printJson(value: unknown): void {
  print(JSON.stringify(value));
}

/** `1 node` / `2 nodes`. */
export function nodes(n: number): string {
  return `${n} ${n === 1 ? 'node' : 'nodes'}`;
}

/** A worker's reply as Celery's `inspect`/`control` print it below the worker's name. */
function replyLines(value: unknown): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return ['    - empty -'];
    return value.map((item) => `    * ${typeof item === 'string' ? item : JSON.stringify(item)}`);
  }
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 1 && typeof (value as { ok?: unknown }).ok === 'string') {
    return [`        ${(value as { ok: string }).ok}`];
  }
  return JSON.stringify(value, null, 4)
    .split('\n')
    .map((line) => `    ${line}`);
}

/**
 * Prints replies keyed by worker name: JSON in Celery's `--json` shape, or per worker
 * (`->  w1@host: OK` and the value below it, `ERROR` and the error), then `N nodes online.`
 *
 * @throws CliError (exit 69, as Celery) when no worker replied
 */
export function printReplies(replies: Replies<unknown>, json: boolean): number {
  const workers = Object.keys(replies).sort();
  if (workers.length === 0) {
    throw new CliError('No nodes replied within time constraint (is a worker running on this broker and prefix? raise -t/--timeout for busy workers)', EXIT.UNAVAILABLE);
  }
  if (json) {
    printJson(replies);
    return EXIT.OK;
  }
  let failed = 0;
  for (const worker of workers) {
    const reply = replies[worker];
    if (isCommandFailure(reply)) {
      failed++;
      print(`->  ${worker}: ERROR`);
      print(`        ${reply.name}: ${reply.error}`);
    } else {
      print(`->  ${worker}: OK`);
      for (const line of replyLines(reply)) print(line);
    }
  }
  print();
  print(`${nodes(workers.length)} online.`);
  return failed === 0 ? EXIT.OK : EXIT.FAILURE;
}
