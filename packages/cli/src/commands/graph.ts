/**
 * `celeriac graph ID|FILE.json`: a workflow's graph — a running or finished workflow by any of its
 * result ids (each node with its state), or a canvas saved as JSON (its shape).
 */
import { existsSync, readFileSync } from 'node:fs';
import { compile, parseCanvas, type Canvas } from '@celeriac/canvas';
import { CliError } from '../errors.js';
import type { GraphFormat } from '../command-names.js';
import { fromCompiled, fromSnapshot, renderGraph } from '../graph-render.js';
import type { Session } from '../session.js';

/** Prints the graph in `format`. */
export async function graphCommand(session: Session, target: string, format: GraphFormat): Promise<number> {
  if (target.endsWith('.json') || existsSync(target)) {
    let text: string;
    try {
      text = readFileSync(target, 'utf8');
    } catch (error) {
      throw new CliError(`graph ${target}: cannot read the file (${(error as Error).message})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new CliError(`graph ${target}: not valid JSON (${(error as Error).message}); save a canvas with JSON.stringify(canvas)`);
    }
    let canvas: Canvas;
    try {
      canvas = parseCanvas(json);
    } catch (error) {
      throw new CliError(`graph ${target}: not a canvas (${(error as Error).message}); save one with JSON.stringify(canvas)`);
    }
    const graph = compile(canvas);
    process.stdout.write(renderGraph(fromCompiled(graph, `canvas ${target}: ${graph.nodes.length} tasks`), format));
    return 0;
  }
  const { app } = await session.app();
  process.stdout.write(renderGraph(fromSnapshot(await app.workflow(target)), format));
  return 0;
}
