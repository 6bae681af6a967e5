/**
 * Finding a result by id: which workflow holds it, and where in that workflow. A user-chosen id
 * has a pointer key; a derived id (`<workflow>.<n>`, `<workflow>.g<n>`) names its workflow; a
 * workflow's own id is its result. See `store.locate`.
 */
import { ResultNotFoundError } from './errors.js';
import { nodeId, type ResultIndex, type WorkflowMeta } from './plan.js';
import type { NodeRef } from './settle.js';
import type { WorkflowStore } from './store.js';

/** A result found by id: its workflow's meta and its place there. */
export interface Located {
  readonly meta: WorkflowMeta;
  readonly ref: ResultIndex;
}

/** Finds the workflow and place of a result id. Rejects with `ResultNotFoundError` when none knows it. */
export async function locate(store: WorkflowStore, id: string): Promise<Located> {
  for (const { workflowId, ref } of await store.locate(id)) {
    const meta = await store.meta(workflowId);
    if (meta === null) continue;
    if (ref === null) return { meta, ref: meta.result };
    const known = 'n' in ref ? (ref.n < meta.nodes.length ? nodeId(meta, ref.n) : undefined) : meta.groups[ref.g]?.id;
    if (known === id) return { meta, ref };
  }
  throw new ResultNotFoundError(id);
}

/** The node of a workflow, as the settling functions name it. */
export function nodeRefOf(meta: WorkflowMeta, index: number): NodeRef {
  return { workflowId: meta.id, index, id: nodeId(meta, index), task: meta.nodes[index]!.task };
}
