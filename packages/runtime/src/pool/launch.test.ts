import { describe, expect, it } from 'vitest';
import { childEntry, childExecArgv } from './launch.js';

const ts = new URL('file:///project/app.ts');
const js = new URL('file:///project/app.mjs');
const sourceEntry = new URL('file:///repo/packages/runtime/src/pool/child.ts');
const builtEntry = new URL('file:///repo/node_modules/@celeriac/runtime/dist/pool/child.js');

describe('child launch', () => {
  it('runs child.ts from the sources and child.js once built', () => {
    expect(childEntry('file:///r/src/pool/launch.ts').href).toBe('file:///r/src/pool/child.ts');
    expect(childEntry('file:///r/dist/pool/launch.js').href).toBe('file:///r/dist/pool/child.js');
  });

  it('adds nothing for JavaScript on a built runtime, and drops the debugger\'s flags', () => {
    expect(childExecArgv(js, builtEntry, ['--max-old-space-size=512', '--inspect=9229', '--inspect-port', '9230'])).toEqual(['--max-old-space-size=512']);
  });

  it('adds tsx for a TypeScript app module, unless the worker already has a TypeScript loader', () => {
    const argv = childExecArgv(ts, builtEntry, []);
    expect(argv).toHaveLength(2);
    expect(argv[0]).toBe('--import');
    expect(argv[1]).toMatch(/^file:.*[/\\]tsx[/\\]dist[/\\]loader\.mjs$/);
    for (const loader of [['--import', 'tsx'], ['--import=tsx'], ['--require', '/x/node_modules/tsx/dist/preflight.cjs'], ['--loader', 'ts-node/esm']]) {
      expect(childExecArgv(ts, builtEntry, loader)).toEqual(loader);
    }
  });

  it('resolves @celeriac packages from their sources when the runtime runs from its sources', () => {
    expect(childExecArgv(js, sourceEntry, ['--import', 'tsx'])).toEqual(['--import', 'tsx', '--conditions=@celeriac/source']);
    expect(childExecArgv(js, sourceEntry, ['--import', 'tsx', '--conditions', '@celeriac/source'])).toEqual(['--import', 'tsx', '--conditions', '@celeriac/source']);
  });
});
