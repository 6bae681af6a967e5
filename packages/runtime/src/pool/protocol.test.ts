import { describe, expect, it } from 'vitest';
import { CeleriacError } from '@celeriac/canvas';
import { NotRegisteredError, RemoteTaskError } from '../errors.js';
import { fromRemoteError, toRemoteError } from '../failure.js';
import { PROTOCOL_VERSION, readChildMessage, readParentMessage, rebuildError } from './protocol.js';

const task = { id: 't1', task: 'add' };

describe('pool protocol', () => {
  it('reads the messages of this version and refuses others, saying why', () => {
    expect(readParentMessage({ v: PROTOCOL_VERSION, type: 'run', job: {}, queue: 'default', softTimeLimit: 2 })).toMatchObject({ ok: true });
    expect(readChildMessage({ v: PROTOCOL_VERSION, type: 'done', outcome: { kind: 'success', value: new Map() } })).toMatchObject({ ok: true });
    expect(readChildMessage({ v: 2, type: 'done', outcome: { kind: 'replaced' } })).toEqual({ ok: false, problem: 'it speaks pool protocol version 2, this worker 1' });
    expect(readChildMessage('ready')).toEqual({ ok: false, problem: 'it speaks pool protocol version undefined, this worker 1' });
    const wrong = readChildMessage({ v: PROTOCOL_VERSION, type: 'done', outcome: { kind: 'failure', error: { name: 'E' }, autoretry: true } });
    expect(wrong.ok).toBe(false);
    expect(!wrong.ok && wrong.problem).toMatch(/^outcome\.error\.message: /);
    expect(readParentMessage({ v: PROTOCOL_VERSION, type: 'run', job: {}, queue: 'q', softTimeLimit: -1 }).ok).toBe(false);
    expect(readParentMessage({ v: PROTOCOL_VERSION, type: 'kill' }).ok).toBe(false);
  });

  it('rebuilds a remote error so that capturing it again gives back the same record', () => {
    const thrown = new TypeError('bad', { cause: new RangeError('deeper') });
    const remote = toRemoteError(thrown, task);
    const rebuilt = rebuildError(remote);
    expect(rebuilt).toBeInstanceOf(RemoteTaskError);
    expect(toRemoteError(rebuilt, task)).toEqual(remote);
    expect(rebuilt.stack).toBe(thrown.stack);
  });

  it('keeps the code of a Celeriac error, which waiters dispatch on', () => {
    const remote = toRemoteError(new NotRegisteredError('mul', ['add']), task);
    const rebuilt = rebuildError(remote);
    expect(rebuilt).toBeInstanceOf(CeleriacError);
    expect(toRemoteError(rebuilt, task)).toEqual(remote);
    expect(fromRemoteError(toRemoteError(rebuilt, task))).toBeInstanceOf(NotRegisteredError);
  });

  it('does not give a stackless remote error the stack of the process that rebuilt it', () => {
    const remote = { name: 'NonErrorThrown', message: 'a string', task: 'add', id: 't1' };
    expect(toRemoteError(rebuildError(remote), task)).toEqual(remote);
  });
});
