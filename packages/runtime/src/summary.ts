/**
 * Short, safe descriptions of task values for log lines and task events: Celery's `saferepr`,
 * which truncates a result or argument list to 1 024 characters.
 */

/** Characters kept of a value's description by default (Celery's `resultrepr_maxsize`). */
export const SUMMARY_LENGTH = 1_024;

/** JSON text of `value`, cut to `max` characters; never throws (a cycle or BigInt is described instead). */
export function describeValue(value: unknown, max = SUMMARY_LENGTH): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = `<${typeof value} that is not JSON>`;
  }
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
