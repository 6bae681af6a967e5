/**
 * What a ```ts fragment in the docs may use without defining it (test/doc-snippets.ts): the names
 * earlier sections of the README set up, and stand-ins for a user's own code. Only types matter:
 * fragments are type-checked, never run. Add a name here when a new fragment needs one.
 */
import type { App, AppTask, AsyncResult } from '@celeriac/runtime';

export { chain, chord, defineTask, group, signature } from '@celeriac/canvas';
export type { TaskContext } from '@celeriac/runtime';

/** The app of "Apps, tasks and workers". */
export declare const app: App;
export declare const add: AppTask<[x: number, y: number], number>;
export declare const mul: AppTask<[x: number, y: number], number>;
export declare const tsum: AppTask<[numbers: number[]], number>;
export declare const upper: AppTask<[s: string], string>;
export declare const fetchPage: AppTask<[url: string], string>;
/** A result `app.apply` returned. */
export declare const res: AsyncResult<number>;

// Stand-ins for a user's own code.
export declare function download(url: string): Promise<string>;
export declare class FetchError extends Error {}
export declare function isReady(id: string): boolean;
export declare function fetchResult(id: string): Promise<string>;
