/**
 * Recording a node's final outcome and enqueueing what it releases: shared by the worker and by
 * the built-in tasks that finish a replaced task on its replacement's behalf.
 */
import { DIRECT_RELEASE_LIMIT, type Dispatcher } from './dispatch.js';
import { encodeError } from './envelope.js';
import type { RemoteError } from './errors.js';
import type { Recorded, WorkflowStore } from './store.js';

/** Which node an outcome belongs to. */
export interface NodeRef {
  /** Workflow id and node index. */
  readonly w: string;
  readonly i: number;
  /** Task id and name (named in the errors of downstream chord bodies). */
  readonly id: string;
  readonly task: string;
}

/**
 * Records a success envelope and enqueues the successors it released; a release too large to
 * enqueue directly goes out as release jobs into `queue`, the queue of the job recording it.
 */
export async function recordSuccess(store: WorkflowStore, dispatcher: Dispatcher, node: NodeRef, envelope: string, queue: string): Promise<Recorded> {
  const recorded = await store.advance(node.w, node.i, envelope, DIRECT_RELEASE_LIMIT);
  await dispatcher.sendRecorded(node.w, recorded, node.id, queue);
  return recorded;
}

/**
 * Records a final failure: the node fails with `remote`, chord bodies downstream with a
 * ChordError naming it, and its error callbacks are enqueued.
 */
export async function recordFailure(store: WorkflowStore, dispatcher: Dispatcher, node: NodeRef, remote: RemoteError): Promise<Recorded> {
  const chord: RemoteError = {
    name: 'ChordError',
    code: 'CHORD_FAILED',
    message: `Dependency ${node.id} raised ${remote.name}: ${remote.message}`,
    task: node.task,
    id: node.id,
    cause: remote,
  };
  const recorded = await store.fail(node.w, node.i, encodeError('FAILURE', remote), encodeError('FAILURE', chord));
  await dispatcher.enqueue(node.w, recorded.released, node.id);
  return recorded;
}
