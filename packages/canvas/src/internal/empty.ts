/**
 * The empty list and object every canvas shares: a 100 000-signature group holds one `{}` for all
 * its kwargs and options, not 100 000. Frozen, so sharing them is safe.
 */
import { freeze } from 'immer';

/** The shared empty list: empty `args`, `tasks`, `header`, `link`, …. */
export const EMPTY_ARRAY: readonly never[] = freeze([]);

/** The shared empty object: empty `kwargs` and `options`. */
export const EMPTY_OBJECT: { readonly [key: string]: never } = freeze({});
