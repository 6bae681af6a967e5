/**
 * The one way Celeriac writes a location inside a value, used by every `CanvasError` and
 * `JsonProblem`: field names joined with dots, indices in brackets, and keys that are not
 * identifiers quoted in brackets, so the path reads like the JavaScript that would reach it
 * (`tasks[2].args`, `kwargs["my key"][0]`).
 */

/** One step of a path: a field name or an array index. */
export type PathSegment = string | number;

/** A location as a list of steps from the root, e.g. `['steps', 2]`. */
export type Path = readonly PathSegment[];

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Appends one step to a formatted path.
 *
 * @param path - A formatted path (`''` for the root).
 * @param segment - A field name or an array index.
 * @returns The longer path, e.g. `tasks[2]` from `tasks` and `2`.
 */
export function appendSegment(path: string, segment: PathSegment): string {
  if (typeof segment === 'number') return `${path}[${segment}]`;
  if (IDENTIFIER.test(segment)) return path === '' ? segment : `${path}.${segment}`;
  return `${path}[${JSON.stringify(segment)}]`;
}

/**
 * Formats a path the way every Celeriac error reads it.
 *
 * @param segments - The steps from the root.
 * @param root - What the path starts from, e.g. `result`; `''` for none.
 * @returns E.g. `tasks[2].args`, or `result.a[2]` with root `result`.
 */
export function formatPath(segments: Path, root = ''): string {
  let path = root;
  for (const segment of segments) path = appendSegment(path, segment);
  return path;
}
